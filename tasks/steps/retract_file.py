"""Retract File: take a file's contribution out of the daily totals and its rows out of the lake, on request.

The file stays known: its audit item says RETRACTED (with the retraction logged as an attempt), its original
stays archived under raw/, and loading the same content again, or `gridflow rerun`, loads it afresh.
"""

from __future__ import annotations

import time
from typing import Any

from tasks.adapters import audit_table
from tasks.adapters.settings import Settings
from tasks.steps.file_ref import FileRef
from tasks.steps.finalize_file import LeaseLost
from tasks.steps.retract_outputs import retract_outputs


class UnknownFile(Exception):
    """No file with this id was ever registered."""


class FileBusy(Exception):
    """A load of the file is running; retract it once the load has ended."""


def _file_ref(record: dict[str, Any], execution: str, attempt_sk: str, started: str) -> FileRef:
    """The file as the retraction works on it, from its audit item."""
    return FileRef(file_id=record["file_id"], bucket=record["bucket"], key=record["key"],
                   source_key=record.get("current_key", record["key"]), feed=record["feed"], name=record["name"],
                   size=int(record["size"]), etag=record["etag"], chunk_bytes=int(record.get("chunk_bytes", 0)),
                   attempt_sk=attempt_sk, attempt_started_at=started, execution=execution,
                   received_at=record.get("created_at", ""), status=record.get("status", ""))


def retract_file(file_id: str, execution: str, settings: Settings) -> dict[str, Any]:
    """Idempotent: retracting a retracted (or never loaded) file deletes nothing and records it again."""
    record = audit_table.get_file(settings.audit_table, file_id)
    if record is None:
        raise UnknownFile(f"no file {file_id} in {settings.audit_table}")
    started = audit_table.now_iso()
    attempt_sk = f"attempt#{started}#{execution}"
    now = int(time.time())
    if not audit_table.begin_retraction(settings.audit_table, file_id, execution, attempt_sk,
                                        lease_until=now + settings.lease_seconds, now_epoch=now):
        raise FileBusy(f"file {file_id} is being loaded by execution {record.get('execution', '?')}: "
                       "retract it when that load has ended")
    retracted = retract_outputs(_file_ref(record, execution, attempt_sk, started), settings, whole_history=True)
    fields = {"retracted_at": audit_table.now_iso(), "retracted_objects": retracted["objects_deleted"],
              "retracted_items": retracted["items_deleted"], "renetted_files": retracted["renetted_files"]}
    if not audit_table.finish(settings.audit_table, file_id, execution, attempt_sk, audit_table.RETRACTED, fields):
        raise LeaseLost(f"file {file_id}: another execution took it over; this retraction stops unrecorded")
    return {"status": audit_table.RETRACTED, "file_id": file_id, "key": record["key"],
            "previous_status": record.get("status", ""), **retracted}
