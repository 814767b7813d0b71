"""Aggregate Totals: combine the chunks' partial totals and write the file's daily-total items.

A file with more meters than settings.aggregate_shard_meters is aggregated in shards (tasks.domain.meter_shards):
Aggregate Totals plans them, takes the feed's netting lease for the execution and keeps it; each Aggregate
Shard (a Map item) nets and writes the meter-day items of its meters and its feed-day sums to work/; Commit
Feed Totals writes the feed-day items from those sums, re-nets the newer files and gives the lease back.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_reader, lake_writer, netting_lease, s3_objects, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS, DailyTotal
from tasks.domain import meter_shards
from tasks.domain.chunk_plan import chunk_result_key
from tasks.domain.daily_totals import combine_partials, feed_day_totals
from tasks.domain.supersession import (meters_in_several_chunks, net_of, older_deliveries, repeated_within_file,
                                      superseded)
from tasks.steps import netting
from tasks.steps.file_ref import FileRef


def _meter_totals(file: FileRef, meter_day: pa.Table) -> list[DailyTotal]:
    return [DailyTotal(feed=file.feed, file_id=file.file_id, **row) for row in meter_day.to_pylist()]


def _feed_totals(file: FileRef, feed_day: pa.Table) -> list[DailyTotal]:
    return [DailyTotal(feed=file.feed, file_id=file.file_id, meter_id=ALL_METERS, **row)
            for row in feed_day.to_pylist()]


def _net_of_repeats(file: FileRef, partials: list[pa.Table]) -> pa.Table:
    """The file's meter-day totals without the intervals it gave twice in different chunks (first line wins)."""
    meter_day = combine_partials(partials)
    meters, days = meters_in_several_chunks(partials)
    if not days:
        return meter_day
    own = lake_reader.day_objects(file.bucket, file.feed, days, file.file_id).own
    return net_of(meter_day, repeated_within_file(lake_reader.read_deliveries(file.bucket, own, meters=meters)))


def _days(table: pa.Table) -> list[str]:
    return sorted(set(table["day"].to_pylist()))


def _commit_netted(file: FileRef, meter_day: pa.Table, settings: Settings) -> tuple[pa.Table, int, list[str]]:
    """Net out what older committed files delivered for the same intervals, write the file's items, and work
    out again the newer committed files that re-deliver its intervals; under the feed's netting lease, so two
    files re-delivering the same intervals never net at the same moment (NettingBusy makes one wait)."""
    meters = pc.unique(meter_day["meter_id"])
    with netting_lease.held(settings.totals_table, file.feed, file.execution):
        lake = netting.committed_lake(file, _days(meter_day), settings.totals_table)
        own = netting.own_deliveries(file, lake, meters)  # empty in the usual case: no committed file shares a meter
        older = older_deliveries(lake.deliveries, file.delivered_at, file.file_id, meters)
        meter_day = net_of(meter_day, superseded(own, older))
        written = totals_table.put_totals(settings.totals_table, _meter_totals(file, meter_day)
                                          + _feed_totals(file, feed_day_totals(meter_day)), settings.write_threads)
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


def _plan_shards(file: FileRef, meter_day: pa.Table, shards: int, settings: Settings) -> dict[str, Any]:
    """Write each shard's meter-day totals to work/ and take the netting lease for the execution: the shards
    and Commit Feed Totals renew it (same owner), Commit Feed Totals or Record Failure gives it back."""
    netting_lease.acquire(settings.totals_table, file.feed, file.execution)
    for shard, part in enumerate(meter_shards.split(meter_day, shards)):
        s3_objects.put_bytes(file.bucket, meter_shards.shard_input_key(file.file_id, shard),
                             lake_writer.parquet_bytes(part))
    return {"sharded": True, "shard_count": shards, "shards": list(range(shards)), "meter_days": meter_day.num_rows}


def aggregate_totals(file: FileRef, chunk_results: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Idempotent: the items are keyed by (feed, meter, day, channel, file), so writing twice changes nothing."""
    partials = lake_writer.read_partial_totals(file.bucket, file.file_id, [int(c["index"]) for c in chunk_results])
    meter_day = _net_of_repeats(file, partials)
    shards = meter_shards.shard_count(len(pc.unique(meter_day["meter_id"])), settings.aggregate_shard_meters,
                                      settings.aggregate_shards)
    if shards > 1:
        return _plan_shards(file, meter_day, shards, settings)
    meter_day, written, renetted = _commit_netted(file, meter_day, settings)
    return _summary(chunk_results, feed_day_totals(meter_day), meter_day.num_rows, written, renetted)


def _own_of_meters(file: FileRef, lake: netting.CommittedLake, meters: pa.Array) -> pa.Table:
    """The file's curated readings of these meters, read only when a committed file shares one of them."""
    if lake.deliveries.num_rows == 0 or not pc.any(pc.is_in(lake.deliveries["meter_id"], value_set=meters)).as_py():
        return pa.table({})
    own = lake_reader.read_deliveries(file.bucket, lake.own_objects)
    return own.filter(pc.is_in(own["meter_id"], value_set=meters)) if own.num_rows else own


def aggregate_shard(file: FileRef, shard: int, settings: Settings) -> dict[str, Any]:
    """Net and write the meter-day items of one shard's meters, and store its feed-day sums in work/.
    Runs under the execution's netting lease (renewed here, not given back: other shards may still run)."""
    table = settings.totals_table
    netting_lease.acquire(table, file.feed, file.execution)
    meter_day = lake_reader.read_parquet(file.bucket, meter_shards.shard_input_key(file.file_id, shard))
    written = 0
    if meter_day.num_rows:
        meters = pc.unique(meter_day["meter_id"])
        lake = netting.committed_lake(file, _days(meter_day), table)
        own = _own_of_meters(file, lake, meters)
        older = older_deliveries(lake.deliveries, file.delivered_at, file.file_id, meters)
        meter_day = net_of(meter_day, superseded(own, older))
        written = totals_table.put_totals(table, _meter_totals(file, meter_day), settings.write_threads)
    s3_objects.put_bytes(file.bucket, meter_shards.shard_feed_day_key(file.file_id, shard),
                         lake_writer.parquet_bytes(feed_day_totals(meter_day)))
    netting_lease.acquire(table, file.feed, file.execution)  # renewed for the shards and the commit after it
    return {"shard": shard, "meter_days": meter_day.num_rows, "items_written": written}


def commit_feed_totals(file: FileRef, chunk_results: list[dict[str, Any]], shards: int,
                       settings: Settings) -> dict[str, Any]:
    """After every shard: the feed-day items from the shards' sums (exact: shards share no meter), which
    commit the file, then the newer committed files re-netted; then the lease goes back."""
    table = settings.totals_table
    inputs = [lake_reader.read_parquet(file.bucket, meter_shards.shard_input_key(file.file_id, shard),
                                       ["meter_id", "day"]) for shard in range(shards)]
    feed_day = meter_shards.combine_feed_days(
        [lake_reader.read_parquet(file.bucket, meter_shards.shard_feed_day_key(file.file_id, shard))
         for shard in range(shards)])
    meter_days = sum(part.num_rows for part in inputs)
    with netting_lease.held(table, file.feed, file.execution):
        lake = netting.committed_lake(file, _days(feed_day), table)
        meters = pc.unique(pa.concat_arrays([pc.unique(part["meter_id"]).cast(pa.string()) for part in inputs]))
        own = netting.own_deliveries(file, lake, meters)
        written = totals_table.put_totals(table, _feed_totals(file, feed_day), settings.write_threads)
        renetted = netting.renet_newer(file, own, netting.with_own(lake, own), lake, table)
    return _summary(chunk_results, feed_day, meter_days, meter_days + written, renetted)
