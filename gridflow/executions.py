"""Finding and waiting for the executions that uploads and reruns start."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gridflow.stack import Stack

TERMINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


@dataclass
class Tracked:
    """One upload or rerun whose execution we wait for."""

    key: str
    file_id: str
    execution_arn: str | None = None
    status: str = "PENDING"
    output: dict[str, Any] | None = None
    error: str = ""


def _execution_key(description: dict[str, Any]) -> str | None:
    try:
        return json.loads(description["input"])["detail"]["object"]["key"]
    except (KeyError, TypeError, ValueError):
        return None


def find_started(stack: Stack, tracked: list[Tracked], since: datetime, seen: set[str]) -> None:
    """Attach to each pending item the newest execution started since `since` for its key."""
    sfn = stack.client("stepfunctions")
    pending = {t.key: t for t in tracked if t.execution_arn is None}
    if not pending:
        return
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
        for item in page["executions"]:
            arn = item["executionArn"]
            if arn in seen or item["startDate"] < since:
                continue
            seen.add(arn)
            key = _execution_key(sfn.describe_execution(executionArn=arn))
            if key in pending and pending[key].execution_arn is None:
                pending[key].execution_arn = arn


def wait_for(stack: Stack, tracked: list[Tracked], since: datetime, timeout: float = 900.0,
             progress_every: float = 10.0) -> None:
    """Poll until every tracked execution ends; print progress to stderr on long waits."""
    sfn = stack.client("stepfunctions")
    seen: set[str] = set()
    started = time.monotonic()
    last_progress = started
    while True:
        find_started(stack, tracked, since, seen)
        for item in tracked:
            if item.execution_arn and item.status not in TERMINAL:
                description = sfn.describe_execution(executionArn=item.execution_arn)
                item.status = description["status"]
                if "output" in description:
                    item.output = json.loads(description["output"])
                if description.get("error"):
                    item.error = f"{description['error']}: {description.get('cause', '')}".strip(": ")
        if all(item.status in TERMINAL for item in tracked):
            return
        now = time.monotonic()
        if now - started > timeout:
            raise TimeoutError(f"executions still running after {timeout:.0f}s: "
                               + ", ".join(t.key for t in tracked if t.status not in TERMINAL))
        if now - last_progress >= progress_every:
            done = sum(item.status in TERMINAL for item in tracked)
            print(f"waiting: {done}/{len(tracked)} executions finished ({now - started:.0f}s)",
                  file=sys.stderr, flush=True)
            last_progress = now
        time.sleep(0.5)
