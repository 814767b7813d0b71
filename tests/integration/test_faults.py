"""Exactly once under faults, on a stack of this module's own (`staging`, deployed onto the session emulator).

Files go in through S3 PutObject, EventBridge starts the executions, the faults come from the emulator's
fault plan (gridflow/emulator/fault_injection.py: nothing in tasks/ knows about them), and every check reads
results back: the DynamoDB totals, the Parquet lake, the Athena views on DuckDB, the audit table and the
execution histories, against totals computed from the raw files with the csv module and Decimal.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from gridflow import cli, commands
from gridflow.emulator import fault_injection
from gridflow.executions import Tracked, find_started, wait_for
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tasks.domain.file_identity import file_id_for
from tests.integration import expected_totals
from tests.integration.faults_support import (NO_REPEATS, FaultPlan, dynamodb_totals, failed_task_errors, file_items,
                                              file_rows,
                                              latest_view_totals, latest_wins, lcl_readings, repeated_rows,
                                              staging_stack, wait_until, write_lcl)
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

FEED = "lcl_halfhourly"
BATCH = 25  # items a BatchWriteItem, tasks/adapters/totals_table.BATCH_LIMIT


@pytest.fixture(scope="module")
def stack(gridflow_up: Any) -> Stack:
    return staging_stack(gridflow_up.printed["endpoint"], gridflow_up.port)


@pytest.fixture
def faults(gridflow_up: Any, stack: Stack) -> Iterator[FaultPlan]:
    plan = FaultPlan(fault_injection.plan_path(gridflow_up.port), stack.environment)
    yield plan
    plan.clear()


def _derived(tmp_path: Path, source: str, meter: str, first_day: str, last_day: str,
             scale: str = "1") -> Path:
    """A real file's readings of some days, under another meter id, optionally scaled (a corrected resend)."""
    rows = [(meter, tstp, str(kwh * Decimal(scale))) for _, tstp, kwh in lcl_readings(real_file(source))
            if first_day <= tstp[:10] <= last_day]
    return write_lcl(tmp_path / f"{meter}-{first_day}-{last_day}-x{scale}.csv", rows)


def _upload(stack: Stack, path: Path) -> Tracked:
    """PutObject into inbound/, as upstream does; the execution EventBridge starts is found by key."""
    key = f"inbound/{FEED}/{path.name}"
    etag = stack.client("s3").put_object(Bucket=stack.data_bucket, Key=key, Body=path.read_bytes())["ETag"]
    return Tracked(key=key, file_id=file_id_for(FEED, etag.strip('"'), path.stat().st_size))


def _started(stack: Stack, item: Tracked, since: datetime) -> str:
    def found() -> str | None:
        find_started(stack, [item], since, set())
        return item.execution_arn
    return wait_until(found, timeout=60)


def _meter_day_items(stack: Stack, file_id: str) -> int:
    return sum(not item["pk"].endswith("#*") for item in file_items(stack, file_id))


def _snapshot(stack: Stack, file_id: str, meter: str) -> dict[str, Any]:
    """Everything a load leaves: the file's items and curated rows, and the meter's totals."""
    return {"items": file_items(stack, file_id), "rows": file_rows(stack, FEED, file_id),
            "totals": dynamodb_totals(stack, FEED, [meter])}


def _error_items(stack: Stack, file_id: str) -> list[dict[str, Any]]:
    """The file's error items in the audit table, oldest first."""
    return [item for item in audit_table.list_file_items(stack.audit_table, file_id) if item["sk"].startswith("error#")]


def _nothing_left(stack: Stack, file_id: str) -> bool:
    return not file_items(stack, file_id) and not file_rows(stack, FEED, file_id)


def _exact(stack: Stack, expected: expected_totals.DayTotals) -> None:
    """DynamoDB, the readings_latest view and the oracle agree, and no row is in the lake twice."""
    meters = sorted({meter for meter, _ in expected})
    assert dynamodb_totals(stack, FEED, meters) == expected
    assert latest_view_totals(stack, FEED, meters) == expected
    assert repeated_rows(stack, FEED) == NO_REPEATS


def _reruns_exactly(stack: Stack, file_id: str, expected: expected_totals.DayTotals) -> None:
    """Nothing of the failed load is left, and a rerun (faults off) loads the file with exact totals."""
    assert _nothing_left(stack, file_id)
    assert commands.rerun(stack, file_id, wait=True)["status"] == "LOADED"
    _exact(stack, expected)


def test_one_event_delivered_twice_and_one_upload_sent_twice_load_once(stack: Stack) -> None:
    path = real_file("lcl_halfhourly/MAC000016.csv")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    first = _upload(stack, path)
    sfn = stack.client("stepfunctions")
    event = sfn.describe_execution(executionArn=_started(stack, first, since))["input"]
    again = Tracked(key=first.key, file_id=first.file_id, status="RUNNING", execution_arn=sfn.start_execution(
        stateMachineArn=stack.state_machine_arn, name=f"redelivered-{uuid.uuid4().hex[:8]}", input=event)
        ["executionArn"])  # EventBridge delivers at least once: the same event, a second execution
    wait_for(stack, [first, again], since)
    [resent] = commands.ingest(stack, [path], FEED, wait=True)

    assert {first.status, again.status} == {"SUCCEEDED"} and resent["status"] == "DUPLICATE"
    outcomes = sorted(item["outcome"] for item in audit_table.list_file_items(stack.audit_table, first.file_id)
                      if item["sk"].startswith("attempt#"))
    assert outcomes == ["DUPLICATE", "DUPLICATE", "LOADED"]
    assert int(audit_table.get_file(stack.audit_table, first.file_id)["attempts"]) == 1
    expected = expected_totals.lcl_halfhourly(path)
    _exact(stack, expected)
    assert len(file_rows(stack, FEED, first.file_id)) == sum(count for _, count in expected.values())


def test_a_chunk_failing_on_every_attempt_fails_the_load_and_a_rerun_matches_a_clean_load(
        stack: Stack, faults: FaultPlan, capsys: pytest.CaptureFixture[str]) -> None:
    """The clean load is the reference: taken, then retracted (and checked gone), then the faulted load."""
    path = real_file("lcl_halfhourly/MAC000002.csv")
    [clean] = commands.ingest(stack, [path], FEED, wait=True)
    file_id, chunks = clean["file_id"], int(audit_table.get_file(stack.audit_table, clean["file_id"])["chunk_count"])
    reference = _snapshot(stack, file_id, "MAC000002")
    assert clean["status"] == "LOADED" and chunks >= 10
    assert reference["totals"] == expected_totals.lcl_halfhourly(path)
    assert cli.main(["retract", file_id, "--wait", "--json", "--endpoint", stack.endpoint, "--env",
                     stack.environment]) == 0
    assert json.loads(capsys.readouterr().out)[0]["status"] == "RETRACTED"
    assert _nothing_left(stack, file_id) and dynamodb_totals(stack, FEED, ["MAC000002"]) == {}

    middle = chunks // 2
    faults.arm({"id": "chunk", "function": faults.function("transform_chunk"), "file_id": file_id,
                "chunk": middle, "action": "raise", "error": "TransientError",
                "message": "the ranged read failed (attempt {attempt})"})
    [failed] = commands.ingest(stack, [path], FEED, wait=True)
    fired = faults.fired()
    faults.clear()
    record = audit_table.get_file(stack.audit_table, file_id)
    errors = _error_items(stack, file_id)
    why = (f"failed tasks {failed_task_errors(stack, _execution(stack, failed))}; "
           f"last error recorded: {errors[-1] if errors else None}")
    assert failed["status"] == "FAILED" and record["status"] == "FAILED", why
    assert [(entry["chunk"], entry["attempt"]) for entry in fired] == [(middle, n) for n in (1, 2, 3, 4)], why
    assert errors[-1]["error_type"] == "TransientError" and errors[-1]["reason"] == "the ranged read failed (attempt 4)"
    assert errors[-1]["chunk"].startswith(f"chunk {middle} (bytes "), "the state machine names the failed chunk"
    assert _nothing_left(stack, file_id), "the chunks that succeeded were taken back out"

    rerun = commands.rerun(stack, file_id, wait=True)
    assert rerun["status"] == "LOADED"
    assert _snapshot(stack, file_id, "MAC000002") == reference
    assert repeated_rows(stack, FEED) == NO_REPEATS


def test_crashes_in_aggregate_leave_nothing_half_loaded_and_a_rerun_converges(stack: Stack,
                                                                             faults: FaultPlan) -> None:
    path = real_file("lcl_halfhourly/MAC000079.csv")
    expected = expected_totals.lcl_halfhourly(path)
    aggregate = faults.function("aggregate")
    # after every chunk's Parquet is written, before any daily total: Aggregate dies at its first write
    faults.arm({"id": "before-totals", "function": aggregate, "action": "crash",
                "at_call": "dynamodb.BatchWriteItem", "call_number": 1})
    [first] = commands.ingest(stack, [path], FEED, wait=True)
    file_id = first["file_id"]
    assert first["status"] == "FAILED" and "Runtime.ExitError" in failed_task_errors(stack, _execution(stack, first))
    assert _nothing_left(stack, file_id)

    # half-way through the daily totals; Record Failure held back a moment to see what the crash left
    batches = math.ceil(2 * len(expected) / BATCH)
    faults.arm({"id": "half-way", "function": aggregate, "action": "crash", "at_call": "dynamodb.BatchWriteItem",
                "call_number": batches // 2},
               {"id": "hold", "function": faults.function("record_failure"), "action": "delay", "seconds": 8})
    tracked = Tracked(key=first["key"], file_id=file_id, status="RUNNING",
                      execution_arn=_rerun_arn(stack, file_id))
    left_by_crash = wait_until(lambda: _meter_day_items(stack, file_id), timeout=120)
    wait_for(stack, [tracked], datetime.now(timezone.utc) - timedelta(minutes=5))
    assert tracked.status == "FAILED" and 0 < left_by_crash < len(expected)
    assert _nothing_left(stack, file_id), "Record Failure took the partial totals back out"

    faults.clear()
    assert commands.rerun(stack, file_id, wait=True)["status"] == "LOADED"
    _exact(stack, expected)
    assert len(file_rows(stack, FEED, file_id)) == sum(count for _, count in expected.values())


def _execution(stack: Stack, row: dict[str, Any]) -> str:
    arn = stack.state_machine_arn.replace(":stateMachine:", ":execution:")
    return f"{arn}:{row['execution']}"


def _rerun_arn(stack: Stack, file_id: str) -> str:
    """Start a rerun without waiting for it; its execution ARN."""
    name = commands.rerun(stack, file_id, wait=False)["execution"]
    return _execution(stack, {"execution": name})


def test_throttled_batch_writes_are_retried_with_backoff_and_the_totals_are_exact(stack: Stack,
                                                                                   faults: FaultPlan) -> None:
    path = real_file("gentrack_seed/consumption.csv")
    faults.arm({"id": "unprocessed", "action": "unprocessed", "processed": "half", "table": stack.totals_table,
                "request": "PutRequest", "calls": 4},
               {"id": "throttled", "action": "throttle", "table": stack.totals_table, "request": "PutRequest",
                "calls": 3})
    [result] = commands.ingest(stack, [path], "gentrack_wide", wait=True)
    fired = faults.fired()
    assert result["status"] == "LOADED"
    assert [entry["id"] for entry in fired] == ["unprocessed"] * 4 + ["throttled"] * 3
    expected = expected_totals.gentrack_wide(path)
    assert dynamodb_totals(stack, "gentrack_wide", sorted({meter for meter, _ in expected})) == expected


def test_throttling_that_does_not_clear_fails_cleanly_and_a_rerun_converges(stack: Stack, faults: FaultPlan,
                                                                            tmp_path: Path) -> None:
    path = _derived(tmp_path, "lcl_halfhourly/MAC000016.csv", "MACTHROTTLE", "2013-01-01", "2013-01-16")
    faults.arm({"id": "some", "action": "unprocessed", "processed": "half", "table": stack.totals_table,
                "request": "PutRequest", "calls": 2},
               {"id": "none", "action": "unprocessed", "table": stack.totals_table, "request": "PutRequest"})
    [failed] = commands.ingest(stack, [path], FEED, wait=True)
    hits = len(faults.fired())
    faults.clear()
    errors = failed_task_errors(stack, _execution(stack, failed))
    assert failed["status"] == "FAILED" and errors.count("TransientError") == 4  # the first try and 3 retries
    assert hits >= 4 * 10  # 10 rounds of UnprocessedItems with backoff a try, for each batch
    _reruns_exactly(stack, failed["file_id"], latest_wins([path]))


def test_an_aggregate_that_times_out_every_time_is_retried_then_fails_cleanly_and_a_rerun_converges(
        stack: Stack, faults: FaultPlan, tmp_path: Path) -> None:
    path = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACTIMEOUT", "2013-03-01", "2013-04-30")
    faults.arm({"id": "timeout", "function": faults.function("aggregate"), "action": "timeout",
                "at_call": "dynamodb.BatchWriteItem", "call_number": 3})
    [failed] = commands.ingest(stack, [path], FEED, wait=True)
    faults.clear()
    record = audit_table.get_file(stack.audit_table, failed["file_id"])
    assert failed["status"] == "FAILED" and record["error_rule"] == "Sandbox.Timedout"
    assert failed_task_errors(stack, _execution(stack, failed)) == ["Sandbox.Timedout"] * 3  # a try, 2 retries
    assert "Task timed out after 300.00 seconds" in record["error"]
    _reruns_exactly(stack, failed["file_id"], latest_wins([path]))


def test_an_aggregate_that_times_out_half_way_once_is_retried_and_counts_once(stack: Stack, faults: FaultPlan,
                                                                                tmp_path: Path) -> None:
    """The first try dies after two BatchWriteItem requests; the retry writes the same items again."""
    path = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACTIMEOUT1", "2013-05-01", "2013-06-30")
    faults.arm({"id": "timeout", "function": faults.function("aggregate"), "action": "timeout",
                "at_call": "dynamodb.BatchWriteItem", "call_number": 3, "attempts": [1]})
    [loaded] = commands.ingest(stack, [path], FEED, wait=True)
    fired = faults.fired()
    faults.clear()
    assert loaded["status"] == "LOADED" and len(fired) == 1
    assert failed_task_errors(stack, _execution(stack, loaded)) == ["Sandbox.Timedout"]
    _exact(stack, latest_wins([path]))


def test_a_chunk_that_dies_between_two_lake_writes_leaves_nothing_behind_and_a_rerun_converges(
        stack: Stack, faults: FaultPlan, tmp_path: Path) -> None:
    """Transform Chunk writes its manifest of lake keys first, so a crash after some day objects (here the 4th
    PutObject: the manifest and two of ten days) leaves nothing that Record Failure cannot find."""
    path = _derived(tmp_path, "lcl_halfhourly/MAC000016.csv", "MACORPHAN", "2013-01-03", "2013-01-12")
    faults.arm({"id": "crash", "function": faults.function("transform_chunk"), "action": "crash",
                "at_call": "s3.PutObject", "call_number": 4})
    [failed] = commands.ingest(stack, [path], FEED, wait=True)
    fired = faults.fired()
    faults.clear()
    assert failed["status"] == "FAILED" and fired, "the chunk died in the middle of its writes"
    _reruns_exactly(stack, failed["file_id"], latest_wins([path]))


def test_a_chunk_still_running_when_another_fails_is_waited_for_and_nothing_it_writes_is_left(
        stack: Stack, faults: FaultPlan, tmp_path: Path) -> None:
    """Chunk 1 fails at once (an error no retrier takes) while chunk 0 starts 15 s late: the Map waits for chunk 0
    before Record Failure takes the load back, so its Parquet is taken back too. (A Map failing at chunk 1's error
    left chunk 0 writing its manifest and objects after Record Failure had read the manifests.)"""
    path = _derived(tmp_path, "lcl_halfhourly/MAC000002.csv", "MACSTRAGGLER", "2013-01-01", "2013-04-30")
    transform = faults.function("transform_chunk")
    faults.arm({"id": "late-chunk", "function": transform, "chunk": 0, "action": "delay", "seconds": 15},
               {"id": "failing-chunk", "function": transform, "chunk": 1, "action": "raise", "error": "KeyError",
                "message": "'kwh'"})
    [failed] = commands.ingest(stack, [path], FEED, wait=True)
    fired = {entry["id"]: entry for entry in faults.fired()}
    faults.clear()
    assert failed["status"] == "FAILED" and {"late-chunk", "failing-chunk"} <= set(fired), (failed, fired)
    while time.time() < fired["late-chunk"]["at"] + 25:  # chunk 0's invocation has ended, however the Map treated it
        time.sleep(1)
    errors = _error_items(stack, failed["file_id"])
    assert errors[-1]["error_type"] == "KeyError" and errors[-1]["chunk"].startswith("chunk 1 (bytes ")
    _reruns_exactly(stack, failed["file_id"], latest_wins([path]))


def test_an_interval_a_file_repeats_in_a_later_chunk_counts_once_with_its_first_value(stack: Stack,
                                                                                       tmp_path: Path) -> None:
    """A month of MAC000016-like rows in several 48 KB chunks, then the first reading again with another value:
    Aggregate reads back only the meter-days two chunks share and nets the repeat out (first line wins)."""
    rows = [("MACREPEAT", tstp, str(kwh)) for _, tstp, kwh in lcl_readings(real_file("lcl_halfhourly/MAC000002.csv"))
            if tstp.startswith("2013-03")]
    path = write_lcl(tmp_path / "MACREPEAT-2013-03.csv", [*rows, (rows[0][0], rows[0][1], "9.5")])
    [loaded] = commands.ingest(stack, [path], FEED, wait=True)
    assert loaded["status"] == "LOADED"
    assert int(audit_table.get_file(stack.audit_table, loaded["file_id"])["chunk_count"]) >= 2
    first: dict[tuple[str, str], Decimal] = {}
    for meter, tstp, kwh in rows:
        first.setdefault((meter, tstp), Decimal(kwh))
    expected: dict[tuple[str, str], tuple[Decimal, int]] = {}
    for (meter, tstp), kwh in first.items():
        total, count = expected.get((meter, tstp[:10]), (Decimal(0), 0))
        expected[(meter, tstp[:10])] = (total + kwh, count + 1)
    assert dynamodb_totals(stack, FEED, ["MACREPEAT"]) == expected
    assert latest_view_totals(stack, FEED, ["MACREPEAT"]) == expected
    # The raw `readings` table keeps the repeat's row (docs/status.md), which the later tests' no-repeats check
    # on this shared stack would see: the file is taken back out.
    assert commands.retract(stack, loaded["file_id"], wait=True)["status"] == "RETRACTED"
    assert _nothing_left(stack, loaded["file_id"]) and repeated_rows(stack, FEED) == NO_REPEATS


def test_an_older_file_committed_after_a_newer_one_re_nets_it(stack: Stack, faults: FaultPlan,
                                                               tmp_path: Path) -> None:
    """The older file is held in Transform until the newer one, re-delivering the same intervals, is loaded."""
    older = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACLATE", "2013-02-01", "2013-02-10")
    newer = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACLATE", "2013-02-05", "2013-02-14", "1.5")
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    held = _upload(stack, older)
    faults.arm({"id": "hold", "function": faults.function("transform_chunk"), "file_id": held.file_id,
                "action": "hold", "seconds": 300})
    wait_until(lambda: (audit_table.get_file(stack.audit_table, held.file_id) or {}).get("status") == "PROCESSING")
    [loaded] = commands.ingest(stack, [newer], FEED, wait=True)
    assert loaded["status"] == "LOADED", "the newer file loaded while the older one was held in Transform"
    faults.clear()  # lets the older file's chunks go on
    wait_for(stack, [held], since)
    output = stack.client("stepfunctions").describe_execution(executionArn=held.execution_arn)["output"]
    assert held.status == "SUCCEEDED"
    assert json.loads(output)["totals"]["value"]["renetted_files"] == [loaded["file_id"]]
    _exact(stack, latest_wins([older, newer]))


def test_two_files_aggregated_at_the_same_moment_take_turns_and_the_totals_are_exact(
        stack: Stack, faults: FaultPlan, tmp_path: Path) -> None:
    """Both Aggregates are held at a barrier and let go together; the first to net holds its lease 15 s."""
    first = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACSAME", "2013-05-01", "2013-05-10")
    second = _derived(tmp_path, "lcl_halfhourly/MAC000079.csv", "MACSAME", "2013-05-06", "2013-05-15", "0.5")
    aggregate = faults.function("aggregate")
    faults.arm({"id": "together", "function": aggregate, "action": "barrier", "parties": 2, "seconds": 120,
                "attempts": [1]},
               {"id": "slow-net", "function": aggregate, "action": "delay", "seconds": 15, "attempts": [1],
                "at_call": "dynamodb.BatchWriteItem"})
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    tracked = [_upload(stack, first), _upload(stack, second)]
    wait_for(stack, tracked, since)
    fired = faults.fired()
    assert [item.status for item in tracked] == ["SUCCEEDED", "SUCCEEDED"]
    assert [entry["all_arrived"] for entry in fired if entry["id"] == "together"] == [True, True]
    busy = [failed_task_errors(stack, item.execution_arn).count("NettingBusy") for item in tracked]
    assert sorted(busy)[0] == 0 and sorted(busy)[1] >= 1, "one Aggregate waited for the other's lease"
    path_of = {tracked[0].file_id: first, tracked[1].file_id: second}
    delivered = sorted(path_of, key=lambda file_id: (
        audit_table.get_file(stack.audit_table, file_id)["created_at"], file_id))
    _exact(stack, latest_wins([path_of[file_id] for file_id in delivered]))
