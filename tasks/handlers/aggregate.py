"""Aggregate Totals handler."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.aggregate_totals import aggregate_totals
from tasks.steps.file_ref import FileRef


@step_handler("Aggregate")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = aggregate_totals(FileRef.from_dict(event["file"]), event["chunks"], Settings.from_env())
    metrics.add_metric(name="TotalItemsWritten", unit="Count", value=result["items_written"])
    return result
