"""Record Failure handler."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.record_failure import record_failure


@step_handler("RecordFailure")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = record_failure(event["state"], event["execution"], Settings.from_env())
    metrics.add_metric(name="FilesFailed", unit="Count", value=1)
    return result
