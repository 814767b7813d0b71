"""What the fault and retraction tests share: a stack of their own, the fault plan, and reading results back.

Everything here goes through the deployed stack's APIs (S3, DynamoDB, Step Functions, the Athena SQL on
DuckDB) or reads the raw files with the csv module; nothing calls a handler.
"""

from __future__ import annotations

import csv
import functools
import io
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from gridflow import commands, reports
from gridflow.emulator import fault_injection
from gridflow.local_stack import LOCAL_DIR, deploy
from gridflow.stack import Stack, discover
from tests.integration.sfn_helpers import history

DayTotals = dict[tuple[str, str], tuple[Decimal, int]]
LCL_HEADER = ["LCLid", "tstp", "energy(kWh/hh)"]
MISSING = ("", "Null")
FAULTS_ENVIRONMENT = "staging"
CHUNK_BYTES = 48 * 1024  # MAC000002.csv (664 KB) in 14 chunks


def deploy_stack(endpoint: str, port: int, environment: str, chunk_bytes: int,
                 extra_variables: dict[str, Any] | None = None) -> Stack:
    """terraform apply infra/ as `environment` (with `extra_variables`) onto the running emulator, its functions
    cutting small chunks.

    CHUNK_BYTES is set on the deployed functions through the Lambda API, as an operator could: the Terraform
    variable stops at 1 MiB, and the real files are smaller than that. Every function gets it, because the
    functions share the emulator's one Lambda runtime process and its environment."""
    deploy(endpoint, LOCAL_DIR / f"stack-{port}-{environment}", environment, extra_variables=extra_variables)
    stack = discover(environment=environment, endpoint=endpoint)
    lambdas = stack.client("lambda")
    for function in lambdas.list_functions()["Functions"]:
        if function["FunctionName"].startswith(f"gridflow-{environment}-"):
            variables = {**function["Environment"]["Variables"], "CHUNK_BYTES": str(chunk_bytes)}
            lambdas.update_function_configuration(FunctionName=function["FunctionName"],
                                                  Environment={"Variables": variables})
    return stack


@functools.cache
def staging_stack(endpoint: str, port: int) -> Stack:
    """The stack the fault and retraction tests share, deployed once a session beside the session's `dev`."""
    return deploy_stack(endpoint, port, FAULTS_ENVIRONMENT, CHUNK_BYTES)


@dataclass
class FaultPlan:
    """The emulator's fault plan: arm faults for a test, read back which fired, switch them off."""

    path: Path
    environment: str
    seen: int = field(default=0)

    def function(self, name: str) -> str:
        return f"gridflow-{self.environment}-{name.replace('_', '-')}"

    def arm(self, *faults: dict[str, Any]) -> None:
        self.seen = len(fault_injection.injected(self.path))
        fault_injection.write_plan(self.path, list(faults))

    def clear(self) -> None:
        fault_injection.clear_plan(self.path)

    def fired(self) -> list[dict[str, Any]]:
        """The faults that fired since the last arm()."""
        return fault_injection.injected(self.path)[self.seen:]


def lcl_readings(path: Path) -> list[tuple[str, str, Decimal]]:
    """(meter, tstp, kWh) of every reading of a long LCL file, missing values left out (csv module only)."""
    with path.open(newline="") as handle:
        return [(row["LCLid"], row["tstp"], Decimal(row["energy(kWh/hh)"].strip()))
                for row in csv.DictReader(handle) if row["energy(kWh/hh)"].strip() not in MISSING]


def write_lcl(path: Path, rows: Iterable[tuple[str, str, str]]) -> Path:
    """A long LCL file made of (meter, tstp, kWh text) rows."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(LCL_HEADER)
        writer.writerows(rows)
    return path


def latest_wins(files_in_delivery_order: list[Path]) -> DayTotals:
    """Independent oracle: per (meter, interval) the value of the last file that delivered it (the first line of
    that file giving it), summed per day."""
    latest: dict[tuple[str, str], Decimal] = {}
    for path in files_in_delivery_order:
        first: dict[tuple[str, str], Decimal] = {}
        for meter, tstp, kwh in lcl_readings(path):
            first.setdefault((meter, tstp), kwh)
        latest.update(first)
    sums: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [Decimal(0), 0])
    for (meter, tstp), kwh in latest.items():
        sums[(meter, tstp[:10])][0] += kwh
        sums[(meter, tstp[:10])][1] += 1
    return {key: (kwh, count) for key, (kwh, count) in sums.items()}


def dynamodb_totals(stack: Stack, feed: str, meters: Iterable[str]) -> DayTotals:
    """What `gridflow totals` answers per meter and day (zero days, where nothing is left, left out)."""
    totals = {}
    for meter in meters:
        for row in commands.totals(stack, feed, meter, "2000-01-01", "2099-12-31"):
            if row["readings"] or row["kwh"]:
                totals[(meter, row["date"])] = (row["kwh"], row["readings"])
    return totals


def file_items(stack: Stack, file_id: str) -> list[dict[str, Any]]:
    """Every daily-total item of one file (meter-day and feed-day), as stored."""
    table = stack.client("dynamodb")
    pages = table.get_paginator("scan").paginate(
        TableName=stack.totals_table, FilterExpression="file_id = :f",
        ExpressionAttributeValues={":f": {"S": file_id}})
    return sorted(({name: list(value.values())[0] for name, value in item.items()}
                   for page in pages for item in page["Items"]), key=lambda item: (item["pk"], item["sk"]))


def file_rows(stack: Stack, feed: str, file_id: str) -> list[dict[str, Any]]:
    """Every curated row of one file, read object by object from S3, in a fixed order."""
    s3 = stack.client("s3")
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.data_bucket,
                                                              Prefix=f"curated/readings/feed={feed}/"):
        for item in page.get("Contents", []):
            if item["Key"].rsplit("/", 1)[-1].startswith(f"{file_id}-"):
                body = s3.get_object(Bucket=stack.data_bucket, Key=item["Key"])["Body"].read()
                rows += pq.read_table(io.BytesIO(body)).to_pylist()
    return sorted(rows, key=lambda row: (row["meter_id"], row["channel"], row["interval_start"], row["source_line"]))


NO_REPEATS: dict[str, list[Any]] = {"readings_objects": [], "readings": [], "readings_latest": []}


def repeated_rows(stack: Stack, feed: str) -> dict[str, list[dict[str, Any]]]:
    """Rows that appear twice: in the stored objects and the `readings` view (same file and interval), and in
    `readings_latest` (same interval)."""
    engine = reports.engine_for(stack)
    per_file = {relation: engine.execute(
        f"SELECT file_id, meter_id, channel, interval_start, count(*) AS copies FROM {relation} "
        f"WHERE feed = '{feed}' GROUP BY file_id, meter_id, channel, interval_start HAVING count(*) > 1")
        for relation in ("readings_objects", "readings")}
    latest = engine.execute(
        "SELECT meter_id, channel, interval_start, count(*) AS copies FROM readings_latest "
        f"WHERE feed = '{feed}' GROUP BY meter_id, channel, interval_start HAVING count(*) > 1")
    return {**per_file, "readings_latest": latest}


def latest_view_totals(stack: Stack, feed: str, meters: Iterable[str]) -> DayTotals:
    """Per meter and day, the kWh and readings of `readings_latest` (the Athena view, on DuckDB here)."""
    wanted = ", ".join(f"'{meter}'" for meter in meters)
    rows = reports.engine_for(stack).execute(
        "SELECT meter_id, CAST(reading_date AS varchar) AS day, sum(kwh) AS kwh, count(*) AS readings "
        f"FROM readings_latest WHERE feed = '{feed}' AND meter_id IN ({wanted}) GROUP BY meter_id, reading_date")
    return {(row["meter_id"], row["day"]): (Decimal(str(row["kwh"])), int(row["readings"])) for row in rows}


def failed_task_errors(stack: Stack, execution_arn: str) -> list[str]:
    """The error names of the execution's failed Lambda tasks, in order (retried ones included)."""
    return [event["taskFailedEventDetails"].get("error", "")
            for event in history(stack.client("stepfunctions"), execution_arn)
            if event["type"] == "TaskFailed"]


def wait_until(predicate: Any, timeout: float = 120.0, every: float = 0.5) -> Any:
    """Poll until predicate() is truthy; its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError(f"still false after {timeout:.0f}s: {predicate}")
