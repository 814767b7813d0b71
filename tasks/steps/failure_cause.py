"""Reads the error a Catch put into the state: {"Error": name, "Cause": Lambda error JSON or text}."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

# The ingest Maps' "Chunk Failed" and "Shard Failed" states put the failed item in front of the Lambda's cause.
_ITEM_PREFIX = re.compile(r"(?P<item>chunk \d+ \(bytes \d+-\d+\)|(?P<shard>shard) \d+ of \d+): (?P<cause>.*)",
                          re.DOTALL)


@dataclass(frozen=True)
class FailureCause:
    error: str
    message: str
    rule: str
    chunk: str = ""
    shard: str = ""

    def as_audit(self) -> dict[str, str]:
        located = {name: value for name, value in (("chunk", self.chunk), ("shard", self.shard)) if value}
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


def _located(cause: str) -> tuple[dict[str, str], str]:
    """The chunk or shard a Map item's cause starts with ({"chunk": ...} or {"shard": ...}), and the rest."""
    found = _ITEM_PREFIX.fullmatch(cause)
    if found is None:
        return {}, cause
    return {"shard" if found.group("shard") else "chunk": found.group("item")}, found.group("cause")


def failure_cause(caught: dict[str, Any] | None) -> FailureCause:
    """The error name, its message, the chunk or shard it happened in (when a Map item failed) and, for
    InvalidFile, the rule that failed ("rule: reason")."""
    caught = caught or {}
    located, cause = _located(str(caught.get("Cause", "")))
    error, message = _lambda_error(str(caught.get("Error", "Unknown")), cause)
    rule, separator, reason = message.partition(": ")
    if separator and rule.replace("_", "").isalnum() and rule.islower():
        return FailureCause(error=error, message=reason, rule=rule, **located)
    return FailureCause(error=error, message=message, rule=error, **located)
