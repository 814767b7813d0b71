"""Re-delivery netting between files, for Aggregate and for taking a load back out.

A file's daily-total items hold its readings net of the latest *older* delivery of each interval it delivers
again (tasks.domain.supersession). Only committed files count: those whose feed-day items exist, i.e. whose
totals Aggregate wrote and no retraction removed; the Parquet of a load still running or of a failed one is
not netted against. When a file is committed or taken back out, the newer committed files that deliver one
of its intervals again net against something else, so their items are worked out again here. Callers hold
the feed's netting lease (tasks.adapters.netting_lease) so that two of these never interleave.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_reader, lake_writer, totals_table
from tasks.adapters.totals_table import ALL_METERS, DailyTotal
from tasks.domain import lake_layout
from tasks.domain.supersession import NETTED, contribution, newer_redeliveries, older_deliveries
from tasks.steps.file_ref import FileRef


@dataclass(frozen=True)
class CommittedLake:
    """The days a file touches: the committed files' curated readings and feed-day items there."""

    days: list[str]
    deliveries: pa.Table  # DELIVERY_COLUMNS and reading_date of committed files other than this one
    feed_days: list[dict[str, Any]]  # their feed-day items of these days
    own_objects: list[tuple[str, str]]  # (day, key) of this file's chunk objects there
    own_compacted: list[tuple[str, str]] = dataclasses.field(default_factory=list)  # compacted objects holding its rows


def committed_lake(file: FileRef, days: list[str], table: str, meters: list[str] | None = None) -> CommittedLake:
    """One Query for the feed-day items of these days, one listing a day, the committed files' Parquet read
    (their chunk objects, and their rows in compacted objects: tasks.steps.compact_partition); with `meters`,
    only those meters' rows (an Aggregate Shard's), filtered row group by row group."""
    if not days:
        return CommittedLake(days=[], deliveries=pa.table({}), feed_days=[], own_objects=[])
    wanted = set(days)
    items = [item for item in totals_table.query_days(table, file.feed, ALL_METERS, min(days), max(days))
             if item["day"] in wanted and item["file_id"] != file.file_id]
    committed = {item["file_id"] for item in items}
    objects = lake_reader.day_objects(file.bucket, file.feed, sorted(wanted), file.file_id)
    theirs = [(day, key) for day, key in objects.others if lake_layout.file_of(key) in committed]
    theirs += objects.compacted if committed else []
    deliveries = lake_reader.read_deliveries(file.bucket, theirs, committed, meters)
    return CommittedLake(days=sorted(wanted), deliveries=deliveries, feed_days=items, own_objects=objects.own,
                         own_compacted=objects.holding)


def _shared_meters(lake: CommittedLake, meters: pa.Array | None = None) -> list[str]:
    """The meters (of `meters`, or any) that committed files delivered on these days."""
    if lake.deliveries.num_rows == 0:
        return []
    shared = pc.unique(lake.deliveries["meter_id"])
    if meters is not None:
        shared = shared.filter(pc.is_in(shared, value_set=meters))
    return shared.to_pylist()


def own_rows(file: FileRef, lake: CommittedLake, shared_only: bool = False) -> pa.Table:
    """All of the file's curated readings in these days: its chunk objects and its rows in compacted objects
    (a rerun's fresh chunk objects and the compacted copy of the same rows count once); with shared_only, only
    those of the meters committed files also delivered (all that re-netting them needs; usually none)."""
    meters = _shared_meters(lake) if shared_only else None
    if meters == []:
        return pa.table({})
    return lake_reader.read_deliveries(file.bucket, lake.own_objects + lake.own_compacted, {file.file_id}, meters)


def drop_compacted_copies(file: FileRef, lake: CommittedLake) -> int:
    """A rerun of a file whose rows were compacted wrote them again as chunk objects: take out of the compacted
    objects the rows its chunk objects now hold, so no reading is in `readings` twice. Called by its Aggregate
    under the netting lease, once every chunk is written; rows its chunk objects do not hold stay where they are."""
    if not lake.own_compacted:
        return 0
    fresh = lake_reader.read_deliveries(file.bucket, lake.own_objects)
    if fresh.num_rows == 0:
        return 0
    return sum(lake_writer.remove_file_rows(file.bucket, key, file.file_id, only=fresh)
               for _, key in lake.own_compacted)


def own_of_meters(file: FileRef, lake: CommittedLake, meters: pa.Array | None = None) -> pa.Table:
    """The file's own curated readings of the meters (of `meters`, or any) that committed files also delivered
    on these days: all that netting against them needs, read row group by row group. Empty in the usual case."""
    shared = _shared_meters(lake, meters)
    if not shared:
        return pa.table({})
    own = lake_reader.read_deliveries(file.bucket, lake.own_objects, meters=shared)
    return own if own.num_rows else pa.table({})


def own_deliveries(file: FileRef, lake: CommittedLake, meters: pa.Array | None = None) -> pa.Table:
    """own_of_meters, once a rerun's compacted copies are gone (Aggregate calls this under the lease with every
    chunk written)."""
    drop_compacted_copies(file, lake)
    return own_of_meters(file, lake, meters)


def with_own(lake: CommittedLake, own: pa.Table) -> pa.Table:
    """The committed deliveries once this file's own are committed too."""
    parts = [table for table in (lake.deliveries, own) if table.num_rows]
    return pa.concat_tables(parts) if parts else lake.deliveries


def _in_days(table: pa.Table, days: pa.Array) -> pa.Array:
    return pc.is_in(table["reading_date"], value_set=days)


def _feed_day(netted: pa.Table) -> dict[tuple[str, str], dict[str, Any]]:
    """(channel, day) -> the netted fields summed over the file's meters, and how many meters."""
    sums: dict[tuple[str, str], dict[str, Any]] = defaultdict(lambda: {"kwh": Decimal(0), "readings": 0,
                                                                       "anomalies": 0, "meters": 0})
    for row in netted.to_pylist():
        entry = sums[(row["channel"], row["day"])]
        for name in NETTED:
            entry[name] += row[name]
        entry["meters"] += 1
    return sums


def _restated(file: FileRef, file_id: str, netted: pa.Table, lake: CommittedLake, table: str) -> list[DailyTotal]:
    """The file's stored items of the netted meter-days and their feed-days, with the netted fields replaced;
    what netting does not change (duplicates, expected, ...) stays as Aggregate wrote it."""
    days = sorted(set(netted["day"].to_pylist()))
    stored = {(t.meter_id, t.channel, t.day): t for t in totals_table.file_totals(
        table, file.feed, file_id, netted["meter_id"].to_pylist(), days[0], days[-1])}
    stored |= {(ALL_METERS, item["channel"], item["day"]): totals_table.stored_total(item)
               for item in lake.feed_days if item["file_id"] == file_id}
    rows = {(row["meter_id"], row["channel"], row["day"]): row for row in netted.to_pylist()}
    rows |= {(ALL_METERS, channel, day): {"channel": channel, "day": day, **sums}
             for (channel, day), sums in _feed_day(netted).items()}
    restated = []
    for (meter_id, channel, day), row in rows.items():
        values = {name: row[name] for name in NETTED}
        total = stored.get((meter_id, channel, day))
        if total is None:  # not written yet: a file is committed by its feed-day items, written with the rest
            total = DailyTotal(feed=file.feed, meter_id=meter_id, day=day, channel=channel, file_id=file_id,
                               meters=row.get("meters", 1), **values)
        restated.append(dataclasses.replace(total, **values))
    return restated


def renet_newer(file: FileRef, own: pa.Table, population: pa.Table, lake: CommittedLake, table: str) -> list[str]:
    """Work out again and write the items of every committed file delivered after `file` that delivers one of
    its intervals again, netted against `population` (the committed deliveries, with or without `file`'s own).
    Returns their file ids. Absolute, not a correction: running it twice writes the same items."""
    newer = newer_redeliveries(lake.deliveries, own, file.delivered_at, file.file_id)
    renetted = sorted(set(newer["file_id"].to_pylist())) if newer.num_rows else []
    for file_id in renetted:
        days = pc.unique(newer.filter(pc.equal(newer["file_id"], file_id))["reading_date"])
        rows = lake.deliveries.filter(pc.and_(pc.equal(lake.deliveries["file_id"], file_id),
                                              _in_days(lake.deliveries, days)))
        delivered_at = rows["ingested_at"][0].as_py()
        older = older_deliveries(population, delivered_at, file_id, pc.unique(rows["meter_id"]))
        netted = contribution(rows, older)
        totals_table.put_totals(table, _restated(file, file_id, netted, lake, table))
    return renetted
