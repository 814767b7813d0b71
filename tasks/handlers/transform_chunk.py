"""Transform Chunk handler (one Map item)."""

from typing import Any

from tasks.handlers.observability import metrics, step_handler
from tasks.steps.file_ref import FileRef
from tasks.steps.transform_chunk import transform_chunk


@step_handler("TransformChunk")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    result = transform_chunk(FileRef.from_dict(event["file"]), event["chunk"])
    metrics.add_metric(name="RowsLoaded", unit="Count", value=result["rows_loaded"])
    metrics.add_metric(name="RowsRejected", unit="Count", value=result["rows_rejected"])
    return result
