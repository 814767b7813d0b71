"""Record Failure: take out whatever the failed attempt loaded, and record the error for a rerun."""

from __future__ import annotations

from typing import Any

from tasks.adapters import alerts, audit_table
from tasks.adapters.settings import Settings
from tasks.steps.failure_cause import failure_cause
from tasks.steps.file_ref import FileRef
from tasks.steps.retract_outputs import retract_outputs


def shards_taken_back(state: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The results of Take Back Shards when every shard of the load was taken back (None when one failed, they did
    not all run, or the load was not sharded: then Record Failure takes back the meter-day items itself)."""
    shards = ((state.get("totals") or {}).get("value") or {}).get("shard_count")
    taken_back = state.get("taken_back")
    if (isinstance(taken_back, list) and shards is not None and len(taken_back) == int(shards)
            and not any("error" in shard for shard in taken_back)):
        return taken_back
    return None


def record_failure(state: dict[str, Any], execution: str, settings: Settings) -> dict[str, Any]:
    cause = failure_cause(state.get("error"))
    file_value = (state.get("file") or {}).get("value")
    if not file_value or not file_value.get("attempt_sk"):
        audit_table.record_orphan_error(settings.audit_table, execution, {**cause.as_audit(), "input": str(state)[:2000]})
        alerts.publish(settings.alert_topic_arn, "gridflow: a load failed before its file was identified",
                       {"execution": execution, **cause.as_audit()})
        return {"status": audit_table.FAILED, "execution": execution, **cause.as_audit()}
    file = FileRef.from_dict(file_value)
    taken_back = shards_taken_back(state)
    retracted = retract_outputs(file, settings, meter_days_taken_back=taken_back is not None)
    retracted["items_deleted"] += sum(int(shard["items_deleted"]) for shard in taken_back or [])
    audit_table.finish(settings.audit_table, file.file_id, file.execution, file.attempt_sk, audit_table.FAILED,
                       {"error": cause.message, "error_rule": cause.rule},
                       error={**cause.as_audit(), "retracted_objects": retracted["objects_deleted"]})
    alerts.publish(settings.alert_topic_arn, f"gridflow: load of {file.name} failed",
                   {"file_id": file.file_id, "key": file.key, "execution": execution, **cause.as_audit()})
    return {"status": audit_table.FAILED, "file_id": file.file_id, **cause.as_audit(), **retracted}
