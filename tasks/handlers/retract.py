"""Retract File handler (the retract state machine that `gridflow retract` starts)."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.retract_file import retract_file


@step_handler("Retract")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = retract_file(event["file_id"], event["execution"], Settings.from_env())
    metrics.add_metric(name="FilesRetracted", unit="Count", value=1)
    return result
