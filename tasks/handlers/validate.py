"""Validate File handler."""

from typing import Any

from tasks.adapters.settings import Settings
from tasks.handlers.observability import step_handler
from tasks.steps.file_ref import FileRef
from tasks.steps.validate_file import validate_file


@step_handler("Validate")
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return validate_file(FileRef.from_dict(event["file"]), Settings.from_env())
