"""Aggregate Totals: combine the chunks' partial totals and write the file's daily-total items.

A file with more meters than settings.aggregate_shard_meters is aggregated in shards (tasks.domain.meter_shards):
Aggregate Totals counts the meters from the chunks' sketches, plans the shards, takes the feed's netting lease
for the execution and keeps it; each Aggregate Shard (a Map item) reads its meters' rows of every chunk's partial
totals, nets and writes their meter-day items and its feed-day sums to work/; Commit Feed Totals writes the
feed-day items from those sums, re-nets the newer files and gives the lease back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal
from itertools import chain
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_reader, lake_writer, netting_lease, s3_objects, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS, DailyTotal
from tasks.domain import lake_layout, meter_shards, meter_sketch
from tasks.domain.chunk_plan import chunk_result_key
from tasks.domain.daily_totals import combine_partials, feed_day_totals
from tasks.domain.supersession import net_of, older_deliveries, possibly_repeated, repeated_within_file, superseded
from tasks.steps import netting
from tasks.steps.file_ref import FileRef

TOTALS_PER_BATCH = 1000


def _meter_totals(file: FileRef, meter_day: pa.Table) -> Iterator[DailyTotal]:
    """The items, made a record batch at a time as they are written (a shard's are never all in memory)."""
    for batch in meter_day.to_batches(max_chunksize=TOTALS_PER_BATCH):
        yield from (DailyTotal(feed=file.feed, file_id=file.file_id, **row) for row in batch.to_pylist())


def _feed_totals(file: FileRef, feed_day: pa.Table) -> list[DailyTotal]:
    return [DailyTotal(feed=file.feed, file_id=file.file_id, meter_id=ALL_METERS, **row)
            for row in feed_day.to_pylist()]


def _net_of_repeats(file: FileRef, indexes: list[int], partials: list[pa.Table]) -> pa.Table:
    """The meter-day totals of these partials (of the chunks `indexes`, in that order) without the intervals the
    file gave twice in different chunks (first line wins): only the meters, days and chunks that may repeat one
    are read back."""
    meter_day = combine_partials(partials)
    repeats = possibly_repeated(partials)
    if not repeats.meters:
        return meter_day
    chunks = {indexes[part] for part in repeats.parts}
    own = [(day, key) for day, key in lake_reader.day_objects(file.bucket, file.feed, repeats.days, file.file_id).own
           if lake_layout.chunk_of(key) in chunks]
    return net_of(meter_day, repeated_within_file(lake_reader.read_deliveries(file.bucket, own,
                                                                             meters=repeats.meters)))


def _days(table: pa.Table) -> list[str]:
    return sorted(set(table["day"].to_pylist()))


def _net_of_older(file: FileRef, meter_day: pa.Table, lake: netting.CommittedLake, own: pa.Table) -> pa.Table:
    """Net out what older committed files delivered for the same intervals (own: the file's readings of the
    meters they share)."""
    older = older_deliveries(lake.deliveries, file.delivered_at, file.file_id, pc.unique(meter_day["meter_id"]))
    return net_of(meter_day, superseded(own, older))


def _commit_netted(file: FileRef, meter_day: pa.Table, settings: Settings) -> tuple[pa.Table, int, list[str]]:
    """Net out what older committed files delivered for the same intervals, write the file's items, and work
    out again the newer committed files that re-deliver its intervals; under the feed's netting lease, so two
    files re-delivering the same intervals never net at the same moment (NettingBusy makes one wait)."""
    with netting_lease.held(settings.totals_table, file.feed, file.execution):
        lake = netting.committed_lake(file, _days(meter_day), settings.totals_table)
        own = netting.own_deliveries(file, lake, pc.unique(meter_day["meter_id"]))
        meter_day = _net_of_older(file, meter_day, lake, own)
        written = totals_table.put_totals(settings.totals_table, chain(_meter_totals(file, meter_day),
                                          _feed_totals(file, feed_day_totals(meter_day))), settings.write_threads)
        renetted = netting.renet_newer(file, own, netting.with_own(lake, own), lake, settings.totals_table)
    return meter_day, written, renetted


def chunk_results_of(file: FileRef, chunks: list[dict[str, Any]] | dict[str, Any],
                     plan: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The Transform Chunk results: the inline Map's output, or (after the Distributed Map, whose output is not
    kept in the state) the result each chunk stored in work/."""
    if isinstance(chunks, list):
        return chunks
    count = int((plan or {})["chunk_count"])
    return [s3_objects.get_json(file.bucket, chunk_result_key(file.file_id, index)) for index in range(count)]


def _summary(chunk_results: list[dict[str, Any]], feed_day: pa.Table, meter_days: int, written: int,
             renetted: list[str]) -> dict[str, Any]:
    rules: Counter[str] = Counter()
    for result in chunk_results:
        rules.update(result.get("rejected_rules", {}))
    kwh = sum((Decimal(row) for row in feed_day["kwh"].to_pylist()), Decimal(0))
    return {
        "sharded": False,
        "rows_loaded": sum(int(c["rows_loaded"]) for c in chunk_results),
        "rows_rejected": sum(int(c["rows_rejected"]) for c in chunk_results),
        "blank_lines": sum(int(c.get("blank_lines", 0)) for c in chunk_results),
        "curated_objects": sum(int(c.get("objects", 0)) for c in chunk_results),
        "meter_days": meter_days,
        "items_written": written,
        "renetted_files": renetted,
        "kwh": str(kwh),
        "rejected_rules": dict(rules),
    }


def _meters(file: FileRef, chunk_results: list[dict[str, Any]], indexes: list[int], settings: Settings) -> int:
    """How many meters the file has, enough to choose the shards: the chunks' own counts when their sum is small
    (a meter in two chunks is counted twice), else the chunks' meter sketches merged (footers only)."""
    counted = sum(int(result.get("meters", settings.aggregate_shard_meters + 1)) for result in chunk_results)
    if counted <= settings.aggregate_shard_meters:
        return counted
    return meter_sketch.estimated_meters(lake_writer.meter_sketches(file.bucket, file.file_id, indexes))


def aggregate_totals(file: FileRef, chunk_results: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Idempotent: the items are keyed by (feed, meter, day, channel, file), so writing twice changes nothing.
    A file with many meters is only planned here: its shards read the chunks' partial totals themselves, so no
    call holds the whole file's meter-days. The plan takes the netting lease for the execution: the shards and
    Commit Feed Totals renew it (same owner), Commit Feed Totals or Record Failure gives it back."""
    indexes = sorted(int(result["index"]) for result in chunk_results)
    meters = _meters(file, chunk_results, indexes, settings)
    shards = meter_shards.shard_count(meters, settings.aggregate_shard_meters, settings.aggregate_shards)
    if shards > 1:
        netting_lease.acquire(settings.totals_table, file.feed, file.execution)
        return {"sharded": True, "shard_count": shards, "shards": list(range(shards)), "chunk_count": len(indexes),
                "meters_estimated": meters}
    meter_day = _net_of_repeats(file, indexes, lake_writer.read_partial_totals(file.bucket, file.file_id, indexes))
    meter_day, written, renetted = _commit_netted(file, meter_day, settings)
    return _summary(chunk_results, feed_day_totals(meter_day), meter_day.num_rows, written, renetted)


def aggregate_shard(file: FileRef, shard: int, shards: int, chunk_count: int, settings: Settings) -> dict[str, Any]:
    """Net and write the meter-day items of one shard's meters, read from every chunk's partial totals by hash
    range, and store its feed-day sums in work/. Runs under the execution's netting lease (renewed here, not
    given back: other shards may still run)."""
    table = settings.totals_table
    netting_lease.acquire(table, file.feed, file.execution)
    indexes = list(range(chunk_count))
    partials = lake_writer.read_partial_totals(file.bucket, file.file_id, indexes,
                                               meter_shards.hash_range(shard, shards))
    meter_day = _net_of_repeats(file, indexes, partials)
    written = 0
    if meter_day.num_rows:
        meters = pc.unique(meter_day["meter_id"])
        lake = netting.committed_lake(file, _days(meter_day), table, meters.to_pylist())
        meter_day = _net_of_older(file, meter_day, lake, netting.own_of_meters(file, lake, meters))
        written = totals_table.put_totals(table, _meter_totals(file, meter_day), settings.write_threads)
    s3_objects.put_bytes(file.bucket, meter_shards.shard_feed_day_key(file.file_id, shard), lake_writer.parquet_bytes(
        feed_day_totals(meter_day), {meter_shards.METER_DAYS_METADATA: str(meter_day.num_rows)}))
    netting_lease.acquire(table, file.feed, file.execution)  # renewed for the shards and the commit after it
    return {"shard": shard, "meter_days": meter_day.num_rows, "items_written": written}


def commit_feed_totals(file: FileRef, chunk_results: list[dict[str, Any]], shards: int,
                       settings: Settings) -> dict[str, Any]:
    """After every shard: the feed-day items from the shards' sums (exact: shards share no meter), which
    commit the file, then the newer committed files re-netted; then the lease goes back. Its result keeps the
    shards, so a failure after it is taken back in shards too."""
    table = settings.totals_table
    parts = [lake_reader.read_parquet(file.bucket, meter_shards.shard_feed_day_key(file.file_id, shard))
             for shard in range(shards)]
    meter_days = sum(int((part.schema.metadata or {})[meter_shards.METER_DAYS_METADATA.encode()]) for part in parts)
    feed_day = meter_shards.combine_feed_days(parts)
    with netting_lease.held(table, file.feed, file.execution):
        lake = netting.committed_lake(file, _days(feed_day), table)
        own = netting.own_deliveries(file, lake)
        written = totals_table.put_totals(table, _feed_totals(file, feed_day), settings.write_threads)
        renetted = netting.renet_newer(file, own, netting.with_own(lake, own), lake, table)
    return {**_summary(chunk_results, feed_day, meter_days, meter_days + written, renetted),
            "sharded": True, "shard_count": shards, "shards": list(range(shards))}  # for Take Back Shards
