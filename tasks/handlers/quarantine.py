"""Quarantine File handler."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.quarantine_file import quarantine_file


@step_handler("Quarantine")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = quarantine_file(event["state"], Settings.from_env())
    metrics.add_metric(name="FilesQuarantined", unit="Count", value=1)
    return result
