"""Structured logs and metrics shared by the handlers (Powertools), with the file and execution on every line."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

logger = Logger(service="gridflow")
metrics = Metrics(namespace="gridflow", service="gridflow")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def _file_id(event: dict[str, Any]) -> str:
    for candidate in (event.get("file"), (event.get("state") or {}).get("file", {}).get("value")):
        if isinstance(candidate, dict) and candidate.get("file_id"):
            return str(candidate["file_id"])
    return ""


# Text fields of a step's result that name things (ids, statuses, rules, S3 keys). Every other text field
# stays out of the INFO line: a `reason` can quote a line of the file (a header_mismatch names the columns
# it found, which is the first data row of a file without a header).
LOGGED_TEXT_FIELDS = frozenset({"status", "file_id", "feed", "rule", "error_type", "execution",
                                "key", "archive_key", "quarantine_key"})


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    """The counts, flags and naming fields of a step's result; never a row of customer data."""
    return {key: value for key, value in result.items()
            if isinstance(value, (int, float, bool)) or (isinstance(value, str) and key in LOGGED_TEXT_FIELDS)}


def step_handler(step: str) -> Callable[[Handler], Handler]:
    """Wrap a handler: log context, file id and execution on every line, time it, emit metrics."""

    def decorate(handler: Handler) -> Handler:
        @functools.wraps(handler)
        @metrics.log_metrics(raise_on_empty_metrics=False)
        @logger.inject_lambda_context(clear_state=True)
        def wrapped(event: dict[str, Any], context: Any) -> dict[str, Any]:
            logger.append_keys(step=step, file_id=_file_id(event), execution=event.get("execution", ""))
            started = time.perf_counter()
            try:
                result = handler(event, context)
            except Exception as error:
                logger.append_keys(error_type=type(error).__name__)
                logger.error("%s failed: %s", step, error)
                raise
            seconds = time.perf_counter() - started
            if result.get("file_id"):
                logger.append_keys(file_id=result["file_id"])
            metrics.add_metric(name=f"{step}Seconds", unit=MetricUnit.Seconds, value=seconds)
            logger.info("%s done", step, extra={"seconds": round(seconds, 3), "result": _summary(result)})
            return result

        return wrapped

    return decorate
