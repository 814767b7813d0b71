"""Reads the error a Catch put into the state: {"Error": name, "Cause": Lambda error JSON or text}."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FailureCause:
    error: str
    message: str
    rule: str

    def as_audit(self) -> dict[str, str]:
        return {"error_type": self.error, "rule": self.rule, "reason": self.message}


def failure_cause(caught: dict[str, Any] | None) -> FailureCause:
    """The error name, its message and, for InvalidFile, the rule that failed ("rule: reason")."""
    caught = caught or {}
    error = str(caught.get("Error", "Unknown"))
    cause = caught.get("Cause", "")
    message = cause
    try:
        body = json.loads(cause)
        if isinstance(body, dict):
            message = str(body.get("errorMessage", cause))
            error = str(body.get("errorType", error))
    except (TypeError, ValueError):
        pass
    rule, separator, reason = message.partition(": ")
    if separator and rule.replace("_", "").isalnum() and rule.islower():
        return FailureCause(error=error, message=reason, rule=rule)
    return FailureCause(error=error, message=message, rule=error)
