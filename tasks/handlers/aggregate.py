"""Aggregate Totals handler; also Aggregate Shard and Commit Feed Totals (event "step"), the sharded path of a
file with many meters (tasks.steps.aggregate_totals)."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.aggregate_totals import aggregate_shard, aggregate_totals, chunk_results_of, commit_feed_totals
from tasks.steps.file_ref import FileRef


@step_handler("Aggregate")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    file, settings, step = FileRef.from_dict(event["file"]), Settings.from_env(), event.get("step", "aggregate")
    if step == "shard":
        result = aggregate_shard(file, int(event["shard"]), int(event["shards"]), int(event["chunk_count"]), settings)
    else:
        chunks = chunk_results_of(file, event["chunks"], event.get("plan"))
        result = (commit_feed_totals(file, chunks, int(event["shards"]), settings) if step == "commit"
                  else aggregate_totals(file, chunks, settings))
    metrics.add_metric(name="TotalItemsWritten", unit="Count", value=result.get("items_written", 0))
    return result
