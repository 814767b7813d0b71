"""Take a file's load back out: its daily-total items, curated objects and rejected rows, and work out again
the newer files that netted out readings of it (their totals then count what they replaced)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_writer, netting_lease, s3_objects, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS
from tasks.domain import lake_layout, meter_shards
from tasks.domain.daily_totals import combine_partials
from tasks.steps import netting
from tasks.steps.file_ref import FileRef

FIRST_DAY, LAST_DAY = "0000-01-01", "9999-12-31"


@dataclass(frozen=True)
class _Footprint:
    """What a file left: the days it touched and the keys of its items and objects found so far."""

    days: list[str]
    meter_days: set[tuple[str, str, str]]  # (meter, channel, day)
    feed_days: set[tuple[str, str]]  # (channel, day)
    objects: set[str]

    def empty(self) -> bool:
        return not (self.days or self.objects)


def _footprint(file: FileRef, settings: Settings, whole_history: bool, meter_days_taken_back: bool) -> _Footprint:
    """From work/ (partial totals and chunk manifests, kept 7 days) and, over those days or with whole_history
    over all days, from the file's feed-day items, which stay as long as its totals do. Once shards have taken
    back its meter-day items (take_back_shard), the partial totals are not read."""
    partials = [] if meter_days_taken_back else lake_writer.all_partial_totals(file.bucket, file.file_id)
    meter_day = combine_partials(partials).to_pylist()
    objects = set(lake_writer.written_outputs(file.bucket, file.file_id))
    objects |= set(s3_objects.list_keys(file.bucket, lake_layout.rejected_key(file.feed, file.file_id, 0)
                                        .rpartition("/")[0] + "/"))
    days = {row["day"] for row in meter_day} | {lake_layout.day_of(key) for key in objects if "reading_date=" in key}
    first, last = (FIRST_DAY, LAST_DAY) if whole_history or not days else (min(days), max(days))
    items = [item for item in totals_table.query_days(settings.totals_table, file.feed, ALL_METERS, first, last)
             if item["file_id"] == file.file_id] if whole_history or days else []
    return _Footprint(days=sorted(days | {item["day"] for item in items}),
                      meter_days={(row["meter_id"], row["channel"], row["day"]) for row in meter_day},
                      feed_days={(row["channel"], row["day"]) for row in meter_day}
                      | {(item["channel"], item["day"]) for item in items},
                      objects=objects)


def _item_keys(file: FileRef, meter_days: Iterable[tuple[str, str, str]]) -> list[tuple[str, str]]:
    """The (pk, sk) of the file's items of these (meter, channel, day)."""
    return sorted((f"{file.feed}#{meter}", f"{day}#{channel}#{file.file_id}") for meter, channel, day in meter_days)


def _meter_day_keys(file: FileRef, footprint: _Footprint, own: pa.Table) -> list[tuple[str, str]]:
    found = set(footprint.meter_days)
    if own.num_rows:
        days = pc.cast(own["reading_date"], pa.string())
        found |= set(zip(own["meter_id"].to_pylist(), own["channel"].to_pylist(), days.to_pylist()))
    return _item_keys(file, found)


def take_back_shard(file: FileRef, shard: int, shards: int, settings: Settings) -> dict[str, Any]:
    """One shard of taking back a load aggregated in shards: delete the meter-day items of the shard's meters,
    found by hash range in every partial-totals object of the file, so no call holds the file's meter-days.
    Under the execution's netting lease, renewed and kept: retract_outputs then does the rest and gives it back."""
    table = settings.totals_table
    netting_lease.acquire(table, file.feed, file.execution)
    meter_day = combine_partials(lake_writer.all_partial_totals(file.bucket, file.file_id,
                                                                meter_shards.hash_range(shard, shards)))
    found = zip(meter_day["meter_id"].to_pylist(), meter_day["channel"].to_pylist(), meter_day["day"].to_pylist())
    deleted = totals_table.delete_file_totals(table, _item_keys(file, found))
    netting_lease.acquire(table, file.feed, file.execution)
    return {"shard": shard, "items_deleted": deleted}


def retract_outputs(file: FileRef, settings: Settings, whole_history: bool = False,
                    meter_days_taken_back: bool = False) -> dict[str, Any]:
    """Idempotent: deleting what is already gone is a no-op, and the newer files' items are worked out again
    from the lake, so a retried retraction converges. The feed-day items go last: they are how a retraction
    that stopped half-way finds the file again (and what makes other files still net against it until then).
    With meter_days_taken_back (every take_back_shard ran), only the file's rows of meters that committed files
    share are read."""
    footprint = _footprint(file, settings, whole_history, meter_days_taken_back)
    if footprint.empty():
        return {"objects_deleted": 0, "items_deleted": 0, "renetted_files": [], "compacted_rewritten": 0}
    table = settings.totals_table
    with netting_lease.held(table, file.feed, file.execution):
        lake = netting.committed_lake(file, footprint.days, table)
        own = netting.own_rows(file, lake, shared_only=meter_days_taken_back)
        items = totals_table.delete_file_totals(table, _meter_day_keys(file, footprint, own))
        renetted = netting.renet_newer(file, own, lake.deliveries, lake, table)
        objects = sorted(footprint.objects | {key for _, key in lake.own_objects})
        for key in objects:
            s3_objects.delete(file.bucket, key)
        for _, key in lake.own_compacted:  # its rows in compacted objects: the objects rewritten without them
            lake_writer.remove_file_rows(file.bucket, key, file.file_id)
        feed_days = ((ALL_METERS, channel, day) for channel, day in footprint.feed_days)
        items += totals_table.delete_file_totals(table, _item_keys(file, feed_days))
    return {"objects_deleted": len(objects), "items_deleted": items, "renetted_files": renetted,
            "compacted_rewritten": len(lake.own_compacted)}
