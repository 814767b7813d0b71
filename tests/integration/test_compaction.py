"""`gridflow compact`: a day's small objects become compacted objects, and every invariant of issue 3 still holds
afterwards and across what can happen to a compacted file: a compaction that stopped half-way, a retraction,
a reload, a rerun, a failed rerun. Driven through the CLI on the `staging` stack the fault tests use (files in
through S3, the compact state machine started as the schedule starts it), results read back from DynamoDB,
the Parquet objects and the Athena views (DuckDB).

The tests are one story, in order. The readings are real (MAC000002, May 2013) moved to 2031 under their own
meter, so no other test's file shares a partition with them.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from gridflow import cli, commands, reports
from gridflow.emulator import fault_injection
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tasks.domain import lake_layout
from tests.integration.faults_support import (NO_REPEATS, FaultPlan, dynamodb_totals, latest_view_totals, latest_wins,
                                              lcl_readings, repeated_rows, staging_stack, write_lcl)
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

FEED = "lcl_halfhourly"
METER = "MACCOMPACT"
FIRST_DAY, LAST_DAY = "2031-05-01", "2031-05-20"


@pytest.fixture(scope="module")
def stack(gridflow_up: Any) -> Stack:
    return staging_stack(gridflow_up.printed["endpoint"], gridflow_up.port)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three overlapping deliveries: `a`, a corrected resend `b` of part of it, and `c` overlapping `b`."""
    folder = tmp_path_factory.mktemp("compaction")
    readings = [(tstp.replace("2013-", "2031-", 1), kwh)
                for _, tstp, kwh in lcl_readings(real_file("lcl_halfhourly/MAC000002.csv")) if tstp[:7] == "2013-05"]

    def part(name: str, first: str, last: str, scale: str) -> Path:
        rows = [(METER, tstp, str(kwh * int(scale[0]) / int(scale[1]))) for tstp, kwh in readings
                if first <= tstp[:10] <= last]
        return write_lcl(folder / f"{name}.csv", rows)

    return {"a": part("a", "2031-05-01", "2031-05-10", "11"), "b": part("b", "2031-05-05", "2031-05-15", "54"),
            "c": part("c", "2031-05-12", "2031-05-20", "32")}


@pytest.fixture(scope="module")
def loaded(stack: Stack, files: dict[str, Path]) -> dict[str, str]:
    """The three files loaded in order: day partitions of 2031-05-05..10 and 12..15 hold two objects."""
    ids = {}
    for name, path in files.items():
        [row] = commands.ingest(stack, [path], FEED, wait=True)
        assert row["status"] == "LOADED", row
        ids[name] = row["file_id"]
    return ids


@pytest.fixture
def faults(gridflow_up: Any, stack: Stack) -> Iterator[FaultPlan]:
    plan = FaultPlan(fault_injection.plan_path(gridflow_up.port), stack.environment)
    yield plan
    plan.clear()


def _objects(stack: Stack) -> dict[str, list[str]]:
    """Per day of the story, the names of the visible objects of its partition."""
    s3 = stack.client("s3")
    days: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.data_bucket,
                                                              Prefix=lake_layout.curated_prefix(FEED)):
        for item in page.get("Contents", []):
            day = lake_layout.day_of(item["Key"])
            if FIRST_DAY <= day <= LAST_DAY and not lake_layout.is_hidden(item["Key"]):
                days.setdefault(day, []).append(lake_layout.object_name(item["Key"]))
    return days


def _rows(stack: Stack) -> list[tuple[Any, ...]]:
    """Every row of the story's partitions in `readings` (all columns), sorted: what a reader of the raw table sees."""
    rows = reports.engine_for(stack).execute(
        f"SELECT * FROM readings WHERE feed = '{FEED}' AND reading_date BETWEEN DATE '{FIRST_DAY}' "
        f"AND DATE '{LAST_DAY}'")
    return sorted(tuple(sorted((name, str(value)) for name, value in row.items())) for row in rows)


def _file_rows(stack: Stack, file_id: str) -> int:
    [row] = reports.engine_for(stack).execute(
        f"SELECT count(*) AS n FROM readings WHERE feed = '{FEED}' AND file_id = '{file_id}'")
    return int(row["n"])


def _exact(stack: Stack, files_in_order: list[Path]) -> None:
    """Totals equal the oracle and readings_latest; no reading twice in `readings` nor in `readings_latest`."""
    totals = dynamodb_totals(stack, FEED, [METER])
    assert totals == latest_wins(files_in_order)
    assert latest_view_totals(stack, FEED, [METER]) == totals
    assert repeated_rows(stack, FEED) == NO_REPEATS


def _compact(stack: Stack, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = cli.main(["compact", "--feed", FEED, "--from", FIRST_DAY, "--to", LAST_DAY, "--wait", "--json",
                     "--endpoint", stack.endpoint, "--env", stack.environment, *extra])
    [result] = json.loads(capsys.readouterr().out)
    assert code == 0, result
    return result


def _report(stack: Stack) -> list[dict[str, Any]]:
    return [row for row in reports.monthly(stack, "2031-05", FEED) if row["meter_id"] == METER]


def test_compaction_merges_each_day_into_one_object_and_changes_no_reading(
        stack: Stack, files: dict[str, Path], loaded: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    before, rows, report = _objects(stack), _rows(stack), _report(stack)
    assert sum(len(names) for names in before.values()) == 30 and max(len(n) for n in before.values()) == 2
    result = _compact(stack, capsys)
    after = _objects(stack)
    assert result["status"] == "SUCCEEDED" and result["partitions"] == 10 and result["merges"] == 10
    assert result["objects_merged"] == 20 and result["objects_before"] == 20 and result["objects_after"] == 10
    assert {day: len(names) for day, names in after.items()} == {day: 1 for day in before}
    assert all(names[0].startswith(lake_layout.COMPACTED_PREFIX) for day, names in after.items()
               if len(before[day]) == 2)
    assert _rows(stack) == rows, "every column of every row, file_id, ingested_at and source_line included"
    assert _report(stack) == report
    _exact(stack, [files["a"], files["b"], files["c"]])


def test_running_it_again_changes_nothing(stack: Stack, loaded: dict[str, str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    objects = _objects(stack)
    result = _compact(stack, capsys)
    assert result["merges"] == 0 and result["leftovers_deleted"] == 0 and _objects(stack) == objects


def test_a_compaction_stopped_before_deleting_its_inputs_is_finished_by_the_next_run(
        stack: Stack, files: dict[str, Path], loaded: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    """The window: the compacted object written, its inputs not yet deleted (restored here as a crash leaves them).
    The stored objects hold the merged rows twice; the `readings` and `readings_latest` views, the totals and the
    report do not change."""
    s3 = stack.client("s3")
    rows, report = _rows(stack), _report(stack)
    day = "2031-05-06"
    [compacted] = [key for key in s3.list_objects_v2(Bucket=stack.data_bucket,
                                                      Prefix=lake_layout.curated_prefix(FEED, day))["Contents"]]
    footer = pq.read_metadata(io.BytesIO(s3.get_object(Bucket=stack.data_bucket, Key=compacted["Key"])["Body"].read()))
    inputs = json.loads(footer.metadata[b"gridflow.compaction"])["inputs"]
    table = pq.read_table(io.BytesIO(s3.get_object(Bucket=stack.data_bucket, Key=compacted["Key"])["Body"].read()))
    for key in inputs:  # each input back, with exactly its own rows
        own = table.filter(pc.equal(table["file_id"], lake_layout.file_of(key)))
        sink = io.BytesIO()
        pq.write_table(own.replace_schema_metadata(None), sink, compression="zstd")
        s3.put_object(Bucket=stack.data_bucket, Key=key, Body=sink.getvalue())
    assert len(inputs) == 2
    window = repeated_rows(stack, FEED)
    assert len(window["readings_objects"]) == 96, "the stored objects hold the rows twice"
    assert window["readings"] == [] and window["readings_latest"] == [], "the views show them once"
    assert _rows(stack) == rows
    assert _report(stack) == report
    assert latest_view_totals(stack, FEED, [METER]) == dynamodb_totals(stack, FEED, [METER])

    result = _compact(stack, capsys)
    assert result["leftovers_deleted"] == 2 and result["merges"] == 0
    assert _rows(stack) == rows
    _exact(stack, [files["a"], files["b"], files["c"]])


def test_retracting_a_compacted_file_rewrites_the_compacted_objects_without_it(
        stack: Stack, files: dict[str, Path], loaded: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["retract", loaded["a"], "--wait", "--json", "--endpoint", stack.endpoint, "--env",
                     stack.environment])
    [result] = json.loads(capsys.readouterr().out)
    assert code == 0 and result["status"] == "RETRACTED" and result["renetted_files"] == [loaded["b"]]
    assert _file_rows(stack, loaded["a"]) == 0
    _exact(stack, [files["b"], files["c"]])


def test_a_retracted_compacted_file_loads_again_and_compacts_again(
        stack: Stack, files: dict[str, Path], loaded: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    [again] = commands.ingest(stack, [files["a"]], FEED, wait=True)
    assert again["status"] == "LOADED" and again["file_id"] == loaded["a"]
    _exact(stack, [files["a"], files["b"], files["c"]])
    result = _compact(stack, capsys)
    assert result["merges"] == 6 and {len(names) for names in _objects(stack).values()} == {1}
    _exact(stack, [files["a"], files["b"], files["c"]])


def test_a_rerun_of_a_compacted_file_leaves_no_row_twice(stack: Stack, files: dict[str, Path],
                                                         loaded: dict[str, str]) -> None:
    rows = _rows(stack)
    assert commands.rerun(stack, loaded["b"], wait=True)["status"] == "LOADED"
    assert _file_rows(stack, loaded["b"]) == sum(1 for _ in lcl_readings(files["b"]))
    assert _rows(stack) == rows
    _exact(stack, [files["a"], files["b"], files["c"]])


def test_a_failed_rerun_of_a_compacted_file_takes_all_of_it_out_and_the_next_rerun_converges(
        stack: Stack, files: dict[str, Path], loaded: dict[str, str], faults: FaultPlan,
        capsys: pytest.CaptureFixture[str]) -> None:
    _compact(stack, capsys)  # b's rows back into compacted objects
    faults.arm({"id": "finalize", "function": faults.function("finalize"), "file_id": loaded["c"],
                "action": "raise", "error": "ValueError", "message": "injected"})
    assert commands.rerun(stack, loaded["c"], wait=True)["status"] == "FAILED"
    faults.clear()
    assert audit_table.get_file(stack.audit_table, loaded["c"])["status"] == "FAILED"
    assert _file_rows(stack, loaded["c"]) == 0
    _exact(stack, [files["a"], files["b"]])
    assert commands.rerun(stack, loaded["c"], wait=True)["status"] == "LOADED"
    _exact(stack, [files["a"], files["b"], files["c"]])
    _compact(stack, capsys)
    assert {len(names) for names in _objects(stack).values()} == {1}
    _exact(stack, [files["a"], files["b"], files["c"]])
