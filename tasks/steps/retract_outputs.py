"""Take a file's load back out: its curated objects, rejected rows and daily-total items."""

from __future__ import annotations

from typing import Any

from tasks.adapters import lake_writer, s3_objects, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS
from tasks.domain.daily_totals import combine_partials
from tasks.steps.file_ref import FileRef


def _total_keys(file: FileRef, settings: Settings) -> list[tuple[str, str]]:
    partials = lake_writer.all_partial_totals(file.bucket, file.file_id)
    if not partials:
        return []
    meter_day = combine_partials(partials).to_pylist()
    keys = {(f"{file.feed}#{row['meter_id']}", f"{row['day']}#{row['channel']}#{file.file_id}") for row in meter_day}
    keys |= {(f"{file.feed}#{ALL_METERS}", f"{row['day']}#{row['channel']}#{file.file_id}") for row in meter_day}
    return sorted(keys)


def retract_outputs(file: FileRef, settings: Settings) -> dict[str, Any]:
    """Idempotent: deleting what is already gone is a no-op, so a retried retraction converges."""
    objects = lake_writer.written_outputs(file.bucket, file.file_id)
    for key in objects:
        s3_objects.delete(file.bucket, key)
    items = totals_table.delete_file_totals(settings.totals_table, _total_keys(file, settings))
    return {"objects_deleted": len(objects), "items_deleted": items}
