"""Finalize File handler."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import metrics, step_handler
from tasks.steps.file_ref import FileRef
from tasks.steps.finalize_file import finalize_file


@step_handler("Finalize")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = finalize_file(FileRef.from_dict(event["file"]), event["plan"], event["totals"], Settings.from_env())
    metrics.add_metric(name="FilesLoaded", unit="Count", value=1)
    return result
