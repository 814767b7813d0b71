"""Rendering the ASL as Terraform does, and following executions, for the Step Functions tests."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ASL_PATH = REPO_ROOT / "statemachines" / "ingest.asl.json"
FUNCTIONS = ("Register", "Validate", "TransformChunk", "Aggregate", "Finalize", "Quarantine", "RecordFailure")


def render_definition(account: str = "123456789012", region: str = "eu-west-1", map_concurrency: int = 4) -> str:
    """The definition with every ${...} placeholder filled, as Terraform's templatefile() does."""
    values: dict[str, Any] = {f"{name}FunctionArn": f"arn:aws:lambda:{region}:{account}:function:test-{name.lower()}"
                              for name in FUNCTIONS}
    values["MapConcurrency"] = map_concurrency
    return re.sub(r"\$\{(\w+)\}", lambda match: str(values[match.group(1)]), ASL_PATH.read_text())


def wait_for_execution(sfn: Any, execution_arn: str, timeout: float = 120.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        time.sleep(0.2)
    raise TimeoutError(f"{execution_arn} still running after {timeout}s")


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def entered_states(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def output_of(description: dict[str, Any]) -> dict[str, Any]:
    return json.loads(description.get("output") or "{}")
