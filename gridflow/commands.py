"""What the CLI commands do, as functions returning plain rows (the CLI only parses and prints)."""

from __future__ import annotations

import argparse
import json
import uuid
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from gridflow.executions import Tracked, wait_for
from gridflow.stack import Stack, discover
from tasks.adapters import audit_table, totals_table
from tasks.adapters.totals_table import ALL_METERS
from tasks.domain.compaction_plan import DEFAULT_TARGET_BYTES
from tasks.domain.feed_spec import load_feed_spec
from tasks.domain.file_identity import file_id_for

OK_STATUSES = {"LOADED", "DUPLICATE", "UPLOADED", "STARTED"}
CLOCK_SKEW = timedelta(seconds=5)


def connect(args: argparse.Namespace) -> Stack:
    return discover(environment=args.env, endpoint=args.endpoint)


def _file_row(stack: Stack, item: Tracked) -> dict[str, Any]:
    """The audit's view of a tracked file once its execution ended."""
    registered = ((item.output or {}).get("file") or {}).get("value") or {}
    record = audit_table.get_file(stack.audit_table, item.file_id) or {}
    status = record.get("status", item.status)
    if registered.get("duplicate"):
        status = "DUPLICATE"
    elif item.status == "RUNNING" or item.status == "PENDING":
        status = "STARTED"
    elif item.status != "SUCCEEDED" and status in ("LOADED", "PROCESSING"):
        status = item.status
    return {
        "file_id": item.file_id, "key": item.key, "status": status,
        "rows_loaded": int(record.get("rows_loaded", 0)), "rows_rejected": int(record.get("rows_rejected", 0)),
        "execution": (item.execution_arn or "").rsplit(":", 1)[-1], "error": record.get("error") or item.error,
    }


def ingest(stack: Stack, paths: list[Path], feed: str, wait: bool) -> list[dict[str, Any]]:
    """Upload each file to inbound/<feed>/<name>; with `wait`, follow the executions to the end."""
    s3 = stack.client("s3")
    since = datetime.now(timezone.utc) - CLOCK_SKEW
    tracked = []
    for path in paths:
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such file")
        key = f"inbound/{feed}/{path.name}"
        with path.open("rb") as body:
            response = s3.put_object(Bucket=stack.data_bucket, Key=key, Body=body)
        etag = response["ETag"].strip('"')
        tracked.append(Tracked(key=key, file_id=file_id_for(feed, etag, path.stat().st_size)))
    if not wait:
        return [{"file_id": t.file_id, "key": t.key, "status": "UPLOADED"} for t in tracked]
    wait_for(stack, tracked, since)
    return [_file_row(stack, t) for t in tracked]


def rerun(stack: Stack, file_id: str, wait: bool) -> dict[str, Any]:
    """Start the workflow again for a file, as a console rerun does: the original input plus "rerun": true."""
    record = audit_table.get_file(stack.audit_table, file_id)
    if record is None:
        raise LookupError(f"no file {file_id} in {stack.audit_table}")
    event = {
        "version": "0", "detail-type": "Object Created", "source": "aws.s3", "account": stack.account,
        "region": stack.region, "time": datetime.now(timezone.utc).isoformat(),
        "detail": {"bucket": {"name": record["bucket"]},
                   "object": {"key": record["key"], "size": int(record["size"]), "etag": record["etag"]}},
        "rerun": True,
    }
    since = datetime.now(timezone.utc) - CLOCK_SKEW
    name = f"rerun-{file_id[:16]}-{uuid.uuid4().hex[:8]}"
    arn = stack.client("stepfunctions").start_execution(
        stateMachineArn=stack.state_machine_arn, name=name, input=json.dumps(event))["executionArn"]
    item = Tracked(key=record["key"], file_id=file_id, execution_arn=arn, status="RUNNING")
    if wait:
        wait_for(stack, [item], since)
    return _file_row(stack, item)


def _operator_workflow_arn(stack: Stack, workflow: str) -> str:
    """gridflow-<env>-<workflow> (retract, compact), beside the ingest machine (infra/operator_workflows.tf)."""
    return f"{stack.state_machine_arn.rsplit(':', 1)[0]}:gridflow-{stack.environment}-{workflow}"


def retract(stack: Stack, file_id: str, wait: bool) -> dict[str, Any]:
    """Start the retract state machine for a file; with `wait`, follow it and report what it took out."""
    record = audit_table.get_file(stack.audit_table, file_id)
    if record is None:
        raise LookupError(f"no file {file_id} in {stack.audit_table}")
    since = datetime.now(timezone.utc) - CLOCK_SKEW
    name = f"retract-{file_id[:16]}-{uuid.uuid4().hex[:8]}"
    arn = stack.client("stepfunctions").start_execution(
        stateMachineArn=_operator_workflow_arn(stack, "retract"), name=name, input=json.dumps({"file_id": file_id}))["executionArn"]
    item = Tracked(key=record["key"], file_id=file_id, execution_arn=arn, status="RUNNING")
    if wait:
        wait_for(stack, [item], since)
    output = item.output or {}
    status = output.get("status") or ("STARTED" if item.status == "RUNNING" else item.status)
    counts = {name: int(output.get(name, 0)) for name in ("objects_deleted", "items_deleted")}
    return {"file_id": file_id, "key": record["key"], "status": status, **counts,
            "renetted_files": output.get("renetted_files", []), "execution": name, "error": item.error}


COMPACT_COUNTS = ("objects_before", "objects_after", "merges", "objects_merged", "leftovers_deleted", "rows_merged",
                  "bytes_in", "bytes_out")


def compact(stack: Stack, feed: str | None, first_day: str | None, last_day: str | None, wait: bool,
            target_bytes: int = DEFAULT_TARGET_BYTES) -> dict[str, Any]:
    """Start the compact state machine (what the nightly schedule starts); with `wait`, follow it and sum up
    what it merged."""
    since = datetime.now(timezone.utc) - CLOCK_SKEW
    name = f"compact-{(feed or 'all')[:40]}-{uuid.uuid4().hex[:8]}"
    event = {"feed": feed or "", "from": first_day or "", "to": last_day or "", "lookback_days": 0,
             "target_bytes": target_bytes}
    arn = stack.client("stepfunctions").start_execution(
        stateMachineArn=_operator_workflow_arn(stack, "compact"), name=name, input=json.dumps(event))["executionArn"]
    item = Tracked(key=name, file_id="", execution_arn=arn, status="RUNNING")
    if wait:
        wait_for(stack, [item], since)
    partitions = (item.output or {}).get("partitions", [])
    status = "STARTED" if item.status == "RUNNING" else item.status
    return {"feed": feed or "", "status": status, "partitions": len(partitions),
            **{name: sum(int(p.get(name, 0)) for p in partitions) for name in COMPACT_COUNTS},
            "execution": name, "error": item.error}


def runs(stack: Stack, status: str | None = None) -> list[dict[str, Any]]:
    """Executions, newest first, each with the audit record of the file it worked on."""
    sfn = stack.client("stepfunctions")
    files = {record["file_id"]: record for record in audit_table.list_files(stack.audit_table)}
    file_of_execution = audit_table.executions_by_file(stack.audit_table)
    rows = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=stack.state_machine_arn):
        for execution in page["executions"]:
            record = files.get(file_of_execution.get(execution["name"], ""), {})
            rows.append({
                "execution": execution["name"], "execution_status": execution["status"],
                "started": execution["startDate"].isoformat(timespec="seconds"),
                "file_id": record.get("file_id", ""), "key": record.get("key", ""),
                "status": record.get("status", ""), "rows_loaded": int(record.get("rows_loaded", 0)),
                "rows_rejected": int(record.get("rows_rejected", 0)), "error": record.get("error", ""),
            })
    if status:
        rows = [row for row in rows if status.upper() in (row["execution_status"], row["status"])]
    return sorted(rows, key=lambda row: row["started"], reverse=True)


def totals(stack: Stack, feed: str, meter: str | None, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Daily totals: the per-file contributions of each day summed (one Query on the meter's key), with the
    day's coverage (readings / intervals of the local day) and whether it reaches the feed's min_coverage."""
    items = totals_table.query_days(stack.totals_table, feed, meter or ALL_METERS, first_day, last_day)
    days: dict[tuple[str, str], dict[str, Any]] = defaultdict(
        lambda: {"kwh": Decimal(0), "readings": 0, "files": 0, "anomalies": 0, "duplicates": 0, "expected": 0,
                 "meters": 0})
    for item in items:
        day = days[(item["day"], item["channel"])]
        day["kwh"] += Decimal(item["kwh"])
        for count in ("readings", "anomalies", "duplicates"):
            day[count] += int(item.get(count, 0))
        for most in ("expected", "meters"):
            day[most] = max(day[most], int(item.get(most, 0)))
        day["files"] += 1
    return [_with_coverage(feed, {"meter_id": meter or ALL_METERS, "date": day, "channel": channel, **values})
            for (day, channel), values in sorted(days.items())]


def _with_coverage(feed: str, row: dict[str, Any]) -> dict[str, Any]:
    """coverage = readings / expected readings (per meter, times the meters for the feed-wide row)."""
    expected = row.pop("expected") * (row.pop("meters") if row["meter_id"] == ALL_METERS else 1)
    coverage = (Decimal(row["readings"]) / expected).quantize(Decimal("0.0001")) if expected else None
    minimum = load_feed_spec(feed).checks.min_coverage
    return {**row, "expected": expected, "coverage": coverage,
            "complete": coverage is not None and coverage >= minimum}


def monthly_report(stack: Stack, month: str, feed: str | None) -> list[dict[str, Any]]:
    """The monthly report from athena/: through Athena on AWS, on DuckDB over the same Parquet locally."""
    from gridflow import reports  # noqa: PLC0415 - DuckDB is only needed here

    return reports.monthly(stack, month, feed)
