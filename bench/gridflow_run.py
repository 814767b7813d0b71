"""gridflow end to end on the emulator: S3 drop to SUCCEEDED, with the execution's state timings and outputs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from gridflow.executions import Tracked, wait_for
from gridflow.stack import Stack

FEED = "lcl_halfhourly"


@dataclass
class GridflowResult:
    """One file's load: wall time from the upload's start to the execution's stop, and what it produced."""

    status: str
    execution: str
    execution_arn: str
    wall_seconds: float
    upload_seconds: float
    state_seconds: dict[str, float]
    state_transitions: int
    parquet_bytes: int
    parquet_objects: int
    output: dict[str, Any] = field(default_factory=dict)
    day_totals: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # feed-day items: (readings, kWh)
    executions: int = 1  # executions the drop started (more would mean a duplicate event)


def _state_seconds(events: list[dict[str, Any]]) -> tuple[dict[str, float], int]:
    """Per state name, first entry to last exit in seconds; and the number of states entered."""
    entered: dict[str, datetime] = {}
    exited: dict[str, datetime] = {}
    transitions = 0
    for event in events:
        if event["type"].endswith("StateEntered"):
            transitions += 1
            entered.setdefault(event["stateEnteredEventDetails"]["name"], event["timestamp"])
        elif event["type"].endswith("StateExited"):
            exited[event["stateExitedEventDetails"]["name"]] = event["timestamp"]
    return {name: (exited[name] - start).total_seconds() for name, start in entered.items()
            if name in exited}, transitions


def execution_history(stack: Stack, execution_arn: str) -> list[dict[str, Any]]:
    """Every event of an execution's history."""
    pages = stack.client("stepfunctions").get_paginator("get_execution_history").paginate(
        executionArn=execution_arn)
    return [event for page in pages for event in page["events"]]


def _parquet(stack: Stack) -> tuple[int, int]:
    """Bytes and objects of the curated lake (the stack is fresh: all of it is this file's)."""
    pages = stack.client("s3").get_paginator("list_objects_v2").paginate(
        Bucket=stack.data_bucket, Prefix="curated/")
    sizes = [item["Size"] for page in pages for item in page.get("Contents", [])
             if item["Key"].endswith(".parquet")]
    return sum(sizes), len(sizes)


def _feed_day_totals(stack: Stack) -> dict[str, tuple[int, Decimal]]:
    """The feed-day items in DynamoDB, summed per day."""
    pages = stack.client("dynamodb").get_paginator("query").paginate(
        TableName=stack.totals_table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"{FEED}#*"}})
    totals: dict[str, tuple[int, Decimal]] = {}
    for page in pages:
        for item in page["Items"]:
            day = item["day"]["S"]
            readings, kwh = totals.get(day, (0, Decimal(0)))
            totals[day] = (readings + int(item["readings"]["N"]), kwh + Decimal(item["kwh"]["N"]))
    return totals


def _wait_idle(stack: Stack, timeout_seconds: float) -> int:
    """Wait until no execution of the stack runs (nothing may compete with the next loader); returns how many ran."""
    sfn = stack.client("stepfunctions")
    deadline = time.monotonic() + timeout_seconds
    while True:
        pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn)
        statuses = [item["status"] for page in pages for item in page["executions"]]
        if "RUNNING" not in statuses or time.monotonic() > deadline:
            return len(statuses)
        time.sleep(0.5)


def run_gridflow(stack: Stack, csv_path: Path, timeout_seconds: float = 3600.0) -> GridflowResult:
    """Upload the file under inbound/<feed>/, wait for its execution, collect timings and outputs."""
    key = f"inbound/{FEED}/{csv_path.name}"
    since = datetime.now(timezone.utc)
    started = time.time()
    with csv_path.open("rb") as body:  # one PutObject, one "Object Created" event (moto sends more for multipart)
        stack.client("s3").put_object(Bucket=stack.data_bucket, Key=key, Body=body)
    upload_seconds = time.time() - started
    tracked = Tracked(key=key, file_id="")
    wait_for(stack, [tracked], since, timeout=timeout_seconds, progress_every=60.0)
    assert tracked.execution_arn is not None
    executions = _wait_idle(stack, timeout_seconds)
    description = stack.client("stepfunctions").describe_execution(executionArn=tracked.execution_arn)
    states, transitions = _state_seconds(execution_history(stack, tracked.execution_arn))
    parquet_bytes, parquet_objects = _parquet(stack)
    return GridflowResult(
        status=tracked.status, execution=description["name"], execution_arn=tracked.execution_arn,
        wall_seconds=description["stopDate"].timestamp() - started, upload_seconds=upload_seconds,
        state_seconds=states, state_transitions=transitions, parquet_bytes=parquet_bytes,
        parquet_objects=parquet_objects, output=tracked.output or {}, day_totals=_feed_day_totals(stack),
        executions=executions,
    )
