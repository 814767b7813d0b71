"""Compaction handler: "List Partitions" and "Compact Partition" of the compact state machine (one function)."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.domain.compaction_plan import DEFAULT_TARGET_BYTES
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.compact_partition import compact_partition, list_partitions


@step_handler("Compact")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = Settings.from_env()
    if event.get("action") == "list_partitions":
        return list_partitions(settings, event.get("feed") or None, event.get("from") or None,
                               event.get("to") or None, int(event.get("lookback_days") or 0))
    result = compact_partition(event["feed"], event["day"], event["execution"], settings,
                               int(event.get("target_bytes") or DEFAULT_TARGET_BYTES))
    metrics.add_metric(name="ObjectsCompacted", unit="Count", value=result["objects_merged"])
    return result
