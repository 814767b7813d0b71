"""Scale-out on the emulator: a file with more chunks than the threshold runs them in a Distributed Map (an
ItemReader over its chunk list in S3), and a file with more meters than the threshold aggregates in shards.

The stack is `prod`, deployed beside the session's `dev` by `terraform apply` with small thresholds as Terraform
variables (distributed_map_threshold, aggregate_shard_meters, aggregate_shards, the two concurrencies), and
CHUNK_BYTES set through the Lambda API as the fault tests do (the Terraform variable stops at 1 MiB). The file is
real readings of MAC000002 spread over six meter ids: 13 chunks, 3 shards. Totals and rows are checked against
values worked out from the file with the csv module and Decimal.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridflow import commands
from gridflow.emulator import fault_injection
from gridflow.executions import Tracked, wait_for
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tasks.domain.file_identity import file_id_for
from tests.integration.faults_support import (FaultPlan, deploy_stack, dynamodb_totals, failed_task_errors,
                                              file_items, file_rows, latest_view_totals, latest_wins, lcl_readings,
                                              wait_until, write_lcl)
from tests.integration.sfn_helpers import history
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

FEED = "lcl_halfhourly"
ENVIRONMENT = "prod"
METERS = [f"MACSCALE{n}" for n in range(6)]
CHUNK_BYTES = 48 * 1024
VARIABLES = {"distributed_map_threshold": 4, "distributed_map_concurrency": 3, "aggregate_shard_meters": 2,
             "aggregate_shards": 3, "aggregate_shard_concurrency": 2, "totals_write_threads": 4}


@pytest.fixture(scope="module")
def stack(gridflow_up: Any) -> Stack:
    return deploy_stack(gridflow_up.printed["endpoint"], gridflow_up.port, ENVIRONMENT, CHUNK_BYTES, VARIABLES)


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    readings = lcl_readings(real_file("lcl_halfhourly/MAC000002.csv"))
    rows = [(METERS[n % len(METERS)], tstp, str(kwh)) for n, (_, tstp, kwh) in enumerate(readings)]
    return write_lcl(tmp_path_factory.mktemp("scale") / "many-meters.csv", rows)


@pytest.fixture(scope="module")
def loaded(stack: Stack, large_file: Path) -> dict[str, Any]:
    s3 = stack.client("s3")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    key = f"inbound/{FEED}/{large_file.name}"
    started = time.monotonic()
    etag = s3.put_object(Bucket=stack.data_bucket, Key=key, Body=large_file.read_bytes())["ETag"].strip('"')
    tracked = Tracked(key=key, file_id=file_id_for(FEED, etag, large_file.stat().st_size))
    wait_for(stack, [tracked], since)
    seconds = time.monotonic() - started
    assert tracked.status == "SUCCEEDED", tracked.error
    assert tracked.execution_arn is not None
    return {"file_id": tracked.file_id, "arn": tracked.execution_arn, "output": tracked.output, "seconds": seconds,
            "events": history(stack.client("stepfunctions"), tracked.execution_arn)}


def entered(events: list[dict[str, Any]]) -> list[str]:
    return [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]


def state_seconds(events: list[dict[str, Any]]) -> dict[str, float]:
    """Seconds from entering to leaving each top-level state (the last visit), from the history's timestamps."""
    seconds, entered_at = {}, {}
    for event in events:
        if "stateEnteredEventDetails" in event:
            entered_at[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif "stateExitedEventDetails" in event and event["stateExitedEventDetails"]["name"] in entered_at:
            name = event["stateExitedEventDetails"]["name"]
            seconds[name] = round((event["timestamp"] - entered_at[name]).total_seconds(), 1)
    return seconds


def test_concurrency_and_thresholds_come_from_terraform(stack: Stack) -> None:
    definition = json.loads(stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.state_machine_arn)["definition"])["States"]
    assert definition["Transform Chunks (Distributed)"]["MaxConcurrency"] == VARIABLES["distributed_map_concurrency"]
    assert definition["Aggregate Shards"]["MaxConcurrency"] == VARIABLES["aggregate_shard_concurrency"]
    environment = stack.client("lambda").get_function_configuration(
        FunctionName=f"gridflow-{ENVIRONMENT}-aggregate")["Environment"]["Variables"]
    assert environment["AGGREGATE_SHARD_METERS"] == "2" and environment["AGGREGATE_SHARDS"] == "3"
    assert environment["DISTRIBUTED_MAP_THRESHOLD"] == "4" and environment["TOTALS_WRITE_THREADS"] == "4"


def test_a_file_over_the_chunk_threshold_runs_in_a_distributed_map(stack: Stack, loaded: dict[str, Any]) -> None:
    states = entered(loaded["events"])
    assert "Transform Chunks (Distributed)" in states and "Transform Chunks" not in states
    assert [e["type"] for e in loaded["events"] if e["type"].startswith("MapRun")] == ["MapRunStarted",
                                                                                      "MapRunSucceeded"]
    runs = stack.client("stepfunctions").list_map_runs(executionArn=loaded["arn"])["mapRuns"]
    assert len(runs) == 1
    plan = loaded["output"]["plan"]["value"]
    assert plan["distributed"] is True and plan["chunk_count"] > VARIABLES["distributed_map_threshold"]
    assert "chunks" not in plan and loaded["output"]["chunks"] == {"stored_in": "work"}
    print(f"\nchunks={plan['chunk_count']} seconds={loaded['seconds']:.1f} states={state_seconds(loaded['events'])}")


def test_a_file_over_the_meter_threshold_aggregates_in_shards(loaded: dict[str, Any]) -> None:
    states = entered(loaded["events"])
    assert states.count("Aggregate Shard") == VARIABLES["aggregate_shards"]
    assert states.index("Aggregate Shards") < states.index("Commit Feed Totals") < states.index("Finalize File")


def test_totals_and_rows_equal_an_independent_computation(stack: Stack, large_file: Path,
                                                          loaded: dict[str, Any]) -> None:
    expected = latest_wins([large_file])
    assert dynamodb_totals(stack, FEED, METERS) == expected
    readings = lcl_readings(large_file)
    rows = file_rows(stack, FEED, loaded["file_id"])
    assert len(rows) == len(readings)
    assert sorted((row["meter_id"], row["kwh"]) for row in rows) == sorted((m, kwh) for m, _, kwh in readings)
    totals = loaded["output"]["totals"]["value"]
    assert totals["rows_loaded"] == len(readings)
    assert totals["meter_days"] == len(expected)


def test_feed_day_items_are_the_exact_sums_over_meters(stack: Stack, large_file: Path,
                                                       loaded: dict[str, Any]) -> None:
    items = file_items(stack, loaded["file_id"])
    by_day: dict[str, list[Any]] = {}
    for (_, day), (kwh, count) in latest_wins([large_file]).items():
        entry = by_day.setdefault(day, [0, 0, 0])
        entry[0] += kwh
        entry[1] += count
        entry[2] += 1
    feed_days = {item["day"]: [item["kwh"], int(item["readings"]), int(item["meters"])]
                 for item in items if item["meter_id"] == "*"}
    assert {day: [Decimal(str(kwh)), n, m] for day, (kwh, n, m) in feed_days.items()} == by_day
    assert len(items) - len(feed_days) == len(latest_wins([large_file]))


def _wait_for_crashes(faults: FaultPlan, fault_id: str, count: int, seconds: float) -> None:
    """Until `count` invocations died of this fault (or `seconds` passed): none is left running when this returns."""
    deadline = time.monotonic() + seconds
    while sum(entry["id"] == fault_id for entry in faults.fired()) < count and time.monotonic() < deadline:
        time.sleep(0.5)


def test_a_shard_crashing_mid_write_is_taken_back_out_and_a_rerun_is_exact(gridflow_up: Any, stack: Stack,
                                                                          large_file: Path,
                                                                          loaded: dict[str, Any]) -> None:
    """Every shard dies at its 3rd BatchWriteItem (some of its items written), shard 1 starting 15 s after shard 0
    (two run at a time): the Map waits for it, Take Back Shards deletes each shard's meter-day items (every
    meter-day of the file, counted here with csv), Record Failure the rest, and gives the execution's netting lease
    back; a rerun gives the same totals. (A Map that failed at the first crash left the late shard writing after the
    take-back.)"""
    faults = FaultPlan(fault_injection.plan_path(gridflow_up.port), stack.environment)
    aggregate = faults.function("aggregate")
    faults.arm({"id": "late-shard", "function": aggregate, "file_id": loaded["file_id"], "shard": 1,
                "action": "delay", "seconds": 15},
               {"id": "shard-crash", "function": aggregate, "file_id": loaded["file_id"],
                "action": "crash", "at_call": "dynamodb.BatchWriteItem", "call_number": 3})
    try:
        failed = commands.rerun(stack, loaded["file_id"], wait=True)
        _wait_for_crashes(faults, "shard-crash", count=3, seconds=30)
        fired = faults.fired()
    finally:
        faults.clear()
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{failed['execution']}"
    events = history(stack.client("stepfunctions"), arn)
    assert failed["status"] == "FAILED" and {"late-shard", "shard-crash"} <= {entry["id"] for entry in fired}
    assert "Runtime.ExitError" in failed_task_errors(stack, arn)
    assert "Aggregate Shard" in entered(events) and "Commit Feed Totals" not in entered(events)
    taken_back = next(json.loads(event["stateExitedEventDetails"]["output"])["taken_back"] for event in events
                      if event.get("stateExitedEventDetails", {}).get("name") == "Take Back Shards")
    meter_days = {(meter, tstp[:10]) for meter, tstp, _ in lcl_readings(large_file)}
    assert sorted(shard["shard"] for shard in taken_back) == [0, 1, 2]
    assert sum(shard["items_deleted"] for shard in taken_back) == len(meter_days)
    assert all(shard["items_deleted"] for shard in taken_back)
    assert file_items(stack, loaded["file_id"]) == [] and file_rows(stack, FEED, loaded["file_id"]) == []
    lease = stack.client("dynamodb").get_item(TableName=stack.totals_table,
                                              Key={"pk": {"S": f"lease#{FEED}"}, "sk": {"S": "netting"}})
    assert "Item" not in lease, "Record Failure gave the lease back"

    assert commands.rerun(stack, loaded["file_id"], wait=True)["status"] == "LOADED"
    assert dynamodb_totals(stack, FEED, METERS) == latest_wins([large_file])
    assert len(file_rows(stack, FEED, loaded["file_id"])) == len(lcl_readings(large_file))


def _derived(directory: Path, name: str, meters: list[str], first_day: str, last_day: str, scale: str,
             by_time: bool) -> Path:
    """Real readings of MAC000002 over some days for each of these meters, scaled; sorted by meter, or by time
    (every chunk then splits every meter-day it touches)."""
    source = [(tstp, kwh) for _, tstp, kwh in lcl_readings(real_file("lcl_halfhourly/MAC000002.csv"))
              if first_day <= tstp[:10] <= last_day]
    rows = [(meter, tstp, str(kwh * Decimal(scale) + Decimal(n) / 1000))
            for n, meter in enumerate(meters) for tstp, kwh in source]
    return write_lcl(directory / name, sorted(rows, key=lambda row: (row[1], row[0])) if by_time else rows)


def test_sharded_files_net_a_repeat_across_chunks_and_a_re_delivery_exactly(stack: Stack, tmp_path: Path) -> None:
    """A file sorted by meter that gives its first reading again at its end (another chunk, another value: the
    first line wins), then a newer file sorted by time re-delivering half of its days: both aggregate in
    shards, each shard reading its meters' partial totals, and the totals are those of the latest delivery."""
    meters = [f"MACNET{n}" for n in range(5)]
    older = _derived(tmp_path, "net-older.csv", meters, "2013-03-01", "2013-03-06", "1", by_time=False)
    first = lcl_readings(older)[0]
    with older.open("a") as handle:
        handle.write(f"{first[0]},{first[1]},{first[2] + Decimal('7.5')}\n")
    newer = _derived(tmp_path, "net-newer.csv", meters, "2013-03-04", "2013-03-09", "1.5", by_time=True)
    for path in (older, newer):
        [loaded] = commands.ingest(stack, [path], FEED, wait=True)
        assert loaded["status"] == "LOADED"
        run = stack.client("stepfunctions").describe_execution(
            executionArn=stack.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{loaded['execution']}")
        totals = json.loads(run["output"])["totals"]["value"]
        assert totals["sharded"] is True and "Aggregate Shard" in entered(history(
            stack.client("stepfunctions"), run["executionArn"]))
    assert dynamodb_totals(stack, FEED, meters) == latest_wins([older, newer])
    assert latest_view_totals(stack, FEED, meters) == latest_wins([older, newer])


def test_an_older_sharded_file_committed_after_a_newer_one_re_nets_it(gridflow_up: Any, stack: Stack,
                                                                      tmp_path: Path) -> None:
    """The older file is held in Transform until the newer one, re-delivering some of its intervals, is loaded;
    its Commit Feed Totals then works out the newer file's items again."""
    meters = [f"MACLATE{n}" for n in range(4)]
    older = _derived(tmp_path, "late-older.csv", meters, "2013-04-01", "2013-04-04", "1", by_time=True)
    newer = _derived(tmp_path, "late-newer.csv", meters[1:], "2013-04-03", "2013-04-06", "2", by_time=False)
    faults = FaultPlan(fault_injection.plan_path(gridflow_up.port), stack.environment)
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    key = f"inbound/{FEED}/{older.name}"
    etag = stack.client("s3").put_object(Bucket=stack.data_bucket, Key=key, Body=older.read_bytes())["ETag"]
    held = Tracked(key=key, file_id=file_id_for(FEED, etag.strip('"'), older.stat().st_size))
    try:
        faults.arm({"id": "hold", "function": faults.function("transform_chunk"), "file_id": held.file_id,
                    "action": "hold", "seconds": 300})
        wait_until(lambda: (audit_table.get_file(stack.audit_table, held.file_id) or {}).get("status")
                   == "PROCESSING")
        [loaded] = commands.ingest(stack, [newer], FEED, wait=True)
        assert loaded["status"] == "LOADED", "the newer file loaded while the older one was held in Transform"
    finally:
        faults.clear()
    wait_for(stack, [held], since)
    assert held.status == "SUCCEEDED", held.error
    output = json.loads(stack.client("stepfunctions").describe_execution(executionArn=held.execution_arn)["output"])
    assert output["totals"]["value"]["renetted_files"] == [loaded["file_id"]]
    assert "Commit Feed Totals" in entered(history(stack.client("stepfunctions"), held.execution_arn))
    assert dynamodb_totals(stack, FEED, meters) == latest_wins([older, newer])
    assert latest_view_totals(stack, FEED, meters) == latest_wins([older, newer])
