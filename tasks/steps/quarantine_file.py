"""Quarantine File: move a file that cannot be trusted to quarantine/ with its reason; load nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from tasks.adapters import alerts, audit_table, s3_objects
from tasks.adapters.settings import Settings
from tasks.domain import lake_layout
from tasks.steps.failure_cause import failure_cause
from tasks.steps.file_ref import FileRef
from tasks.steps.retract_outputs import retract_outputs

S3_METADATA_LIMIT = 1800  # user metadata is limited to 2 KB in all


def quarantine_file(state: dict[str, Any], settings: Settings) -> dict[str, Any]:
    file = FileRef.from_dict(state["file"]["value"])
    cause = failure_cause(state.get("error"))
    retracted = retract_outputs(file, settings)
    target = lake_layout.quarantine_key(file.feed, file.file_id, file.name)
    audit_table.finish(settings.audit_table, file.file_id, file.execution, file.attempt_sk, audit_table.QUARANTINED,
                       {"current_key": target, "error": cause.message, "error_rule": cause.rule},
                       error={**cause.as_audit(), "state": "Quarantine File"})
    metadata = {"gridflow-rule": cause.rule, "gridflow-reason": quote(cause.message)[:S3_METADATA_LIMIT],
                "gridflow-file-id": file.file_id}
    s3_objects.move(file.bucket, file.source_key, target, metadata=metadata)
    alerts.publish(settings.alert_topic_arn, f"gridflow: {file.name} quarantined ({cause.rule})",
                   {"file_id": file.file_id, "key": file.key, "quarantine_key": target, **cause.as_audit()})
    return {"status": audit_table.QUARANTINED, "file_id": file.file_id, "quarantine_key": target,
            "rule": cause.rule, "reason": cause.message, **retracted}
