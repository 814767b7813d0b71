"""Record Failure handler; also Take Back Shard (event "step"), which takes back one shard of a load aggregated
in shards before Record Failure runs."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.file_ref import FileRef
from tasks.steps.record_failure import record_failure
from tasks.steps.retract_outputs import take_back_shard


@step_handler("RecordFailure")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("step") == "take_back_shard":
        return take_back_shard(FileRef.from_dict(event["file"]), int(event["shard"]), int(event["shards"]),
                               Settings.from_env())
    result = record_failure(event["state"], event["execution"], Settings.from_env())
    metrics.add_metric(name="FilesFailed", unit="Count", value=1)
    return result
