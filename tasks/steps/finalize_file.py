"""Finalize File: mark the file loaded, archive the original under raw/, alert on too many rejects."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from tasks.adapters import alerts, audit_table, s3_objects
from tasks.adapters.settings import Settings
from tasks.domain import lake_layout
from tasks.steps.file_ref import FileRef


class LeaseLost(Exception):
    """Another execution took the file over while this one was running."""


def _duration_ms(started: str) -> int:
    return int((datetime.now(timezone.utc) - datetime.fromisoformat(started)).total_seconds() * 1000)


def finalize_file(file: FileRef, plan: dict[str, Any], totals: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The audit is updated before the move, so a crash in between leaves a file a rerun still finds."""
    if file.source_key.startswith("raw/"):
        archive = file.source_key
    else:
        archive = lake_layout.archive_key(file.feed, file.delivered_at, f"{file.file_id}/{file.name}")
    counts = {
        "rows_loaded": int(totals["rows_loaded"]), "rows_rejected": int(totals["rows_rejected"]),
        "blank_lines": int(totals.get("blank_lines", 0)), "data_lines": int(plan["data_lines"]),
        "chunk_count": int(plan["chunk_count"]), "meter_days": int(totals["meter_days"]),
        "items_written": int(totals["items_written"]), "curated_objects": int(totals.get("curated_objects", 0)),
        "kwh": totals["kwh"], "bytes": file.size, "duration_ms": _duration_ms(file.attempt_started_at),
        "rejected_rules": totals.get("rejected_rules", {}),
    }
    if not audit_table.finish(settings.audit_table, file.file_id, file.execution, file.attempt_sk,
                              audit_table.LOADED, {"current_key": archive, **counts}):
        raise LeaseLost(f"file {file.file_id}: another execution took it over; this one stops without finalizing")
    if archive != file.source_key:
        s3_objects.move(file.bucket, file.source_key, archive)
    rows = counts["rows_loaded"] + counts["rows_rejected"]
    if rows and counts["rows_rejected"] / rows > settings.reject_alert_ratio:
        alerts.publish(settings.alert_topic_arn, f"gridflow: {file.name} loaded with rejected rows",
                       {"file_id": file.file_id, "key": file.key, **counts})
    return {"status": audit_table.LOADED, "file_id": file.file_id, "archive_key": archive, **counts}
