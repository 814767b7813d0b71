"""Compact Partition: merge a (feed, reading_date) partition's small objects into compacted objects.

Runs under the feed's netting lease (tasks.adapters.netting_lease), so it never interleaves with an Aggregate,
a re-netting, a retraction or a Record Failure of the same feed: those read and rewrite the same partitions.
Only objects of committed files (audit status LOADED) are touched (tasks.domain.compaction_plan).

For each merge: write the compacted object (one PUT), check that its files are still LOADED, then delete its
inputs (one DeleteObjects request per 1,000 keys). Between the PUT and the delete, the raw table `readings`
holds the merged rows twice; `readings_latest` and every total do not change (docs/lake-layout.md). A crash
there leaves the inputs behind: the next run finds them named in the compacted object's footer, checks that
it holds every one of their rows, and deletes them instead of compacting them again.
"""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import audit_table, lake_reader, lake_writer, netting_lease
from tasks.adapters.aws_clients import client
from tasks.adapters.settings import Settings
from tasks.domain import compaction_plan, lake_layout
from tasks.domain.compaction_plan import PartitionObject

MAX_PARTITIONS = 1000  # the Map's item list stays far below the 256 KB state payload limit


def _describe(bucket: str, feed: str, day: str) -> list[PartitionObject]:
    items = lake_reader.list_objects(bucket, lake_layout.curated_prefix(feed, day))
    compacted = {c.key: c for c in lake_reader.compacted_objects(bucket, items)}
    return [PartitionObject(key=item.key, size=item.size, files=tuple(compacted[item.key].files),
                            inputs=tuple(compacted[item.key].inputs)) if item.key in compacted
            else PartitionObject(key=item.key, size=item.size, files=(lake_layout.file_of(item.key) or "",))
            for item in items]


def _loaded(audit: str, files: set[str]) -> set[str]:
    """The files whose load finished and that nothing is loading, retracting or quarantining now."""
    def status(file_id: str) -> str:
        record = audit_table.get_file(audit, file_id) or {}
        return str(record.get("status", ""))

    ordered = sorted(files)
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(status, ordered))
    return {file_id for file_id, value in zip(ordered, statuses) if value == audit_table.LOADED}


def _identities(bucket: str, key: str, files: set[str] | None = None) -> pa.Table:
    table = lake_reader.read_parquet(bucket, key, lake_reader.ROW_IDENTITY)
    if files is not None:
        table = table.filter(pc.is_in(table["file_id"], value_set=pa.array(sorted(files), pa.string())))
    return table


def _contained(bucket: str, item: PartitionObject, holder: str) -> bool:
    """Every row of `item` is in the compacted object `holder` (so deleting `item` loses nothing)."""
    rows = _identities(bucket, item.key)
    held = _identities(bucket, holder, set(item.files))
    return rows.join(held, lake_reader.ROW_IDENTITY, join_type="left anti").num_rows == 0


def _merged(bucket: str, inputs: tuple[str, ...]) -> pa.Table:
    with ThreadPoolExecutor(lake_reader.READ_THREADS) as pool:
        tables = [table.replace_schema_metadata(None)
                  for table in pool.map(lambda key: lake_reader.read_parquet(bucket, key), inputs)]
    # one row per delivery: a copy left by an interrupted rerun or compaction is merged once
    return lake_reader.distinct_rows(pa.concat_tables(tables, promote_options="default"))


def compact_partition(feed: str, day: str, execution: str, settings: Settings,
                      target_bytes: int = compaction_plan.DEFAULT_TARGET_BYTES) -> dict[str, Any]:
    """Idempotent: a second run finds nothing left to merge, and a run after a crash finishes the first's work."""
    bucket = settings.data_bucket
    counts: Counter[str] = Counter()
    with netting_lease.held(settings.totals_table, feed, f"{execution}/compact/{day}"):
        objects = _describe(bucket, feed, day)
        by_key = {item.key: item for item in objects}
        committed = _loaded(settings.audit_table, {f for item in objects for f in item.files})
        leftovers = [key for key, holder in compaction_plan.claimed(objects, committed).items()
                     if _contained(bucket, by_key[key], holder)]
        lake_writer.delete_objects(bucket, leftovers)
        plan = compaction_plan.plan(feed, day, objects, committed, leftovers, target_bytes)
        for merge in plan.merges:
            table = _merged(bucket, merge.inputs)
            size = lake_writer.write_compacted(bucket, merge.key, table, list(merge.inputs))
            if _loaded(settings.audit_table, set(merge.files)) != set(merge.files):
                # a rerun or retraction of one of its files began meanwhile: leave the inputs, drop the output
                lake_writer.delete_objects(bucket, [merge.key])
                counts["merges_abandoned"] += 1
                continue
            lake_writer.delete_objects(bucket, list(merge.inputs))
            counts["merges"] += 1
            counts["objects_merged"] += len(merge.inputs)
            counts["rows_merged"] += table.num_rows
            counts["bytes_in"] += merge.input_bytes
            counts["bytes_out"] += size
    return {"feed": feed, "day": day, "objects_before": len(objects), "leftovers_deleted": len(leftovers),
            "untouched": len(plan.untouched),
            "objects_after": len(objects) - len(leftovers) - counts["objects_merged"] + counts["merges"],
            **{name: counts[name] for name in ("merges", "merges_abandoned", "objects_merged", "rows_merged",
                                               "bytes_in", "bytes_out")}}


def _feeds(bucket: str) -> list[str]:
    paginator = client("s3").get_paginator("list_objects_v2")
    prefixes = [entry["Prefix"] for page in paginator.paginate(Bucket=bucket, Prefix=f"{lake_layout.CURATED_ROOT}/",
                                                               Delimiter="/")
                for entry in page.get("CommonPrefixes", [])]
    root = lake_layout.CURATED_ROOT + "/feed="
    return sorted(prefix.removeprefix(root).rstrip("/") for prefix in prefixes if prefix.startswith(root))


def list_partitions(settings: Settings, feed: str | None = None, first_day: str | None = None,
                    last_day: str | None = None, lookback_days: int = 0) -> dict[str, Any]:
    """The (feed, day) partitions in [first_day, last_day] with two or more objects, for the Map; with
    lookback_days (the schedule) and no first_day, the days from that many days ago up to today."""
    if lookback_days and not first_day:
        first_day = (datetime.now(timezone.utc).date() - timedelta(days=lookback_days)).isoformat()
    partitions: list[dict[str, str]] = []
    for name in [feed] if feed else _feeds(settings.data_bucket):
        per_day = Counter(item.day for item in lake_reader.list_objects(settings.data_bucket,
                                                                        lake_layout.curated_prefix(name)))
        partitions += [{"feed": name, "day": day}
                       for day in compaction_plan.partitions_to_compact(per_day, first_day, last_day)]
    return {"partitions": partitions[:MAX_PARTITIONS], "truncated": len(partitions) > MAX_PARTITIONS,
            "found": len(partitions)}
