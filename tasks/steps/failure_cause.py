"""Reads the error a Catch put into the state: {"Error": name, "Cause": Lambda error JSON or text}."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# The ingest Map's "Chunk Failed" state puts the failed item in front of the Lambda's cause.
_CHUNK_PREFIX = re.compile(r"(chunk \d+ \(bytes \d+-\d+\)): (.*)", re.DOTALL)


@dataclass(frozen=True)
class FailureCause:
    error: str
    message: str
    rule: str
    chunk: str = ""

    def as_audit(self) -> dict[str, str]:
        located = {"chunk": self.chunk} if self.chunk else {}
        return {"error_type": self.error, "rule": self.rule, "reason": self.message, **located}


def _lambda_error(error: str, cause: str) -> tuple[str, str]:
    """The errorType and errorMessage of a Lambda error payload, or the cause as it is."""
    try:
        body = json.loads(cause)
    except (TypeError, ValueError):
        return error, cause
    if isinstance(body, dict):
        return str(body.get("errorType", error)), str(body.get("errorMessage", cause))
    return error, cause


def failure_cause(caught: dict[str, Any] | None) -> FailureCause:
    """The error name, its message, the chunk it happened in (when a Map item failed) and, for InvalidFile, the
    rule that failed ("rule: reason")."""
    caught = caught or {}
    cause = str(caught.get("Cause", ""))
    located = _CHUNK_PREFIX.fullmatch(cause)
    chunk, cause = (located.group(1), located.group(2)) if located else ("", cause)
    error, message = _lambda_error(str(caught.get("Error", "Unknown")), cause)
    rule, separator, reason = message.partition(": ")
    if separator and rule.replace("_", "").isalnum() and rule.islower():
        return FailureCause(error=error, message=reason, rule=rule, chunk=chunk)
    return FailureCause(error=error, message=message, rule=error, chunk=chunk)
