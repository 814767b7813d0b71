"""Rendering the ASL as Terraform does, and following executions, for the Step Functions tests."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_MACHINES_DIR = REPO_ROOT / "statemachines"
ASL_PATH = STATE_MACHINES_DIR / "ingest.asl.json"
FUNCTION_ARN_SUFFIX = "FunctionArn"


def render_definition(asl_path: Path = ASL_PATH, account: str = "123456789012", region: str = "eu-west-1",
                      map_concurrency: int = 4) -> str:
    """The definition with every ${...} placeholder filled, as Terraform's templatefile() does.

    `<Name>FunctionArn` becomes the ARN of a function `test-<name>`, `<Name>Concurrency` the number given, and
    any other placeholder `test-<Name>`.
    """
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("Concurrency"):
            return str(map_concurrency)
        if name.endswith(FUNCTION_ARN_SUFFIX):
            function = name.removesuffix(FUNCTION_ARN_SUFFIX).lower()
            return f"arn:aws:lambda:{region}:{account}:function:test-{function}"
        return f"test-{name}"

    return re.sub(r"\$\{(\w+)\}", value, asl_path.read_text())


def state_machine_paths() -> list[Path]:
    """Every statemachines/*.asl.json."""
    return sorted(STATE_MACHINES_DIR.glob("*.asl.json"))


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
