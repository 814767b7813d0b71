"""End to end on a stack created by `terraform apply`: real files dropped through S3, results read back.

Nothing here calls a handler: files go in with S3 PutObject, EventBridge starts the state machine, and the
checks read the Parquet lake, the DynamoDB tables and the Athena SQL (on DuckDB) against totals computed
from the raw files by tests/integration/expected_totals.py.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from gridflow import cli, commands
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tests.integration import expected_totals
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

LCL_FILES = ("lcl_halfhourly/MAC000002.csv", "lcl_halfhourly/MAC000016.csv", "lcl_halfhourly/MAC000079.csv")
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _lake_rows(stack: Stack, feed: str) -> list[dict[str, Any]]:
    """Every curated row of a feed, read back object by object from S3."""
    s3 = stack.client("s3")
    rows = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.data_bucket,
                                                              Prefix=f"curated/readings/feed={feed}/"):
        for item in page.get("Contents", []):
            body = s3.get_object(Bucket=stack.data_bucket, Key=item["Key"])["Body"].read()
            day = item["Key"].split("reading_date=")[1].split("/")[0]
            rows += [{**row, "reading_date": day} for row in pq.read_table(io.BytesIO(body)).to_pylist()]
    return rows


def _meter_day_totals(stack: Stack, feed: str, meter: str) -> dict[str, tuple[Decimal, int]]:
    rows = commands.totals(stack, feed, meter, "2000-01-01", "2099-12-31")
    return {row["date"]: (row["kwh"], row["readings"]) for row in rows}


def _snapshot(stack: Stack, feed: str, meters: list[str]) -> dict[str, Any]:
    """Everything a reload must leave unchanged: totals per meter-day and the lake's row count and sum."""
    lake = _lake_rows(stack, feed)
    return {
        "totals": {meter: _meter_day_totals(stack, feed, meter) for meter in meters},
        "feed_days": _meter_day_totals(stack, feed, "*"),
        "lake_rows": len(lake),
        "lake_kwh": sum((row["kwh"] for row in lake), Decimal(0)),
    }


@pytest.fixture(scope="module")
def lcl_loaded(stack: Stack) -> dict[str, Any]:
    paths = [real_file(name) for name in LCL_FILES]
    results = commands.ingest(stack, paths, "lcl_halfhourly", wait=True)
    expected: expected_totals.DayTotals = {}
    for path in paths:
        expected.update(expected_totals.lcl_halfhourly(path))
    return {"results": results, "expected": expected, "paths": paths}


def test_real_lcl_files_load_with_every_valid_row(lcl_loaded: dict[str, Any]) -> None:
    for result, path in zip(lcl_loaded["results"], lcl_loaded["paths"]):
        assert result["status"] == "LOADED", result
        meter = path.stem
        expected_rows = sum(count for (m, _), (_, count) in lcl_loaded["expected"].items() if m == meter)
        assert result["rows_loaded"] == expected_rows


def test_parquet_in_the_lake_matches_the_raw_files(stack: Stack, lcl_loaded: dict[str, Any]) -> None:
    lake = _lake_rows(stack, "lcl_halfhourly")
    got: dict[tuple[str, str], list] = {}
    for row in lake:
        entry = got.setdefault((row["meter_id"], row["reading_date"]), [Decimal(0), 0])
        entry[0] += row["kwh"]
        entry[1] += 1
        assert row["interval_minutes"] == 30 and row["channel"] == "import"
        assert row["interval_start"].strftime("%Y-%m-%d") == row["reading_date"]
    assert {key: tuple(value) for key, value in got.items()} == lcl_loaded["expected"]


def test_dynamodb_daily_totals_match_the_raw_files(stack: Stack, lcl_loaded: dict[str, Any]) -> None:
    for path in lcl_loaded["paths"]:
        meter = path.stem
        expected = {day: value for (m, day), value in lcl_loaded["expected"].items() if m == meter}
        assert _meter_day_totals(stack, "lcl_halfhourly", meter) == expected
    feed_days: dict[str, list] = {}
    for (_, day), (kwh, count) in lcl_loaded["expected"].items():
        entry = feed_days.setdefault(day, [Decimal(0), 0])
        entry[0] += kwh
        entry[1] += count
    assert _meter_day_totals(stack, "lcl_halfhourly", "*") == {d: tuple(v) for d, v in feed_days.items()}


def test_monthly_report_matches_the_raw_files(stack: Stack, lcl_loaded: dict[str, Any]) -> None:
    expected = expected_totals.by_month(lcl_loaded["expected"])
    rows = commands.monthly_report(stack, "2013-01", "lcl_halfhourly")
    got = {(row["meter_id"], row["month"]): (Decimal(row["total_kwh"]), row["readings"], row["days_covered"])
           for row in rows}
    assert got == {key: value for key, value in expected.items() if key[1] == "2013-01"}
    assert len(got) == 3


def test_gentrack_small_consumption_gives_the_seed_projects_totals(stack: Stack) -> None:
    path = real_file("gentrack_seed/small-consumption.csv")
    [result] = commands.ingest(stack, [path], "gentrack_wide", wait=True)
    assert result["status"] == "LOADED" and result["rows_loaded"] == 96
    totals = _meter_day_totals(stack, "gentrack_wide", "EE00011")
    assert [kwh for _, (kwh, _) in sorted(totals.items())] == [Decimal("24"), Decimal("47")]


def test_gentrack_consumption_totals_match_the_raw_file(stack: Stack) -> None:
    """consumption.csv re-delivers the two days small-consumption.csv sent: the later delivery wins, once."""
    path = real_file("gentrack_seed/consumption.csv")
    [result] = commands.ingest(stack, [path], "gentrack_wide", wait=True)
    assert result["status"] == "LOADED"
    expected = expected_totals.gentrack_wide(path)
    for meter in {m for m, _ in expected}:
        want = {day: value for (m, day), value in expected.items() if m == meter}
        got = _meter_day_totals(stack, "gentrack_wide", meter)
        assert {day: got[day] for day in want} == want


def test_loading_the_same_file_twice_changes_nothing(stack: Stack, lcl_loaded: dict[str, Any]) -> None:
    meters = [path.stem for path in lcl_loaded["paths"]]
    before = _snapshot(stack, "lcl_halfhourly", meters)
    [again] = commands.ingest(stack, [lcl_loaded["paths"][1]], "lcl_halfhourly", wait=True)
    assert again["status"] == "DUPLICATE"
    assert _snapshot(stack, "lcl_halfhourly", meters) == before
    leftovers = stack.client("s3").list_objects_v2(Bucket=stack.data_bucket, Prefix="inbound/lcl_halfhourly/")
    assert leftovers.get("KeyCount", 0) == 0, "the duplicate copy is removed from the drop zone"


def test_rerunning_a_finished_file_converges_to_the_same_state(stack: Stack, lcl_loaded: dict[str, Any]) -> None:
    meters = [path.stem for path in lcl_loaded["paths"]]
    before = _snapshot(stack, "lcl_halfhourly", meters)
    file_id = lcl_loaded["results"][0]["file_id"]
    result = commands.rerun(stack, file_id, wait=True)
    assert result["status"] == "LOADED"
    assert _snapshot(stack, "lcl_halfhourly", meters) == before
    record = audit_table.get_file(stack.audit_table, file_id)
    assert int(record["attempts"]) == 2 and record["current_key"].startswith("raw/lcl_halfhourly/year=2")


def test_a_merge_conflicted_file_is_quarantined_and_nothing_is_loaded(stack: Stack) -> None:
    path = SAMPLES / "lcl_halfhourly" / "lcl_merge_conflict.csv"
    [result] = commands.ingest(stack, [path], "lcl_halfhourly", wait=True)
    assert result["status"] == "QUARANTINED"
    assert "merge" in result["error"].lower()
    record = audit_table.get_file(stack.audit_table, result["file_id"])
    head = stack.client("s3").head_object(Bucket=stack.data_bucket, Key=record["current_key"])
    assert record["current_key"].startswith("quarantine/lcl_halfhourly/")
    assert head["Metadata"]["gridflow-rule"] == "merge_conflict"
    assert all(row["file_id"] != result["file_id"] for row in _lake_rows(stack, "lcl_halfhourly"))


def test_a_file_under_an_unknown_feed_is_quarantined(stack: Stack, tmp_path: Path) -> None:
    path = tmp_path / "mystery.csv"
    path.write_text("a,b\n1,2\n")
    [result] = commands.ingest(stack, [path], "no_such_feed", wait=True)
    assert result["status"] == "QUARANTINED"
    assert "unknown feed" in result["error"]


def test_cli_totals_and_runs(stack: Stack, lcl_loaded: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = ["--endpoint", stack.endpoint, "--env", stack.environment]
    assert cli.main(["totals", "--feed", "lcl_halfhourly", "--meter", "MAC000016", "--from", "2013-01-01",
                     "--to", "2013-01-02", "--json", *endpoint]) == 0
    rows = json.loads(capsys.readouterr().out)
    expected = lcl_loaded["expected"]
    assert [(r["date"], Decimal(r["kwh"]), r["readings"]) for r in rows] == [
        (day, *expected[("MAC000016", day)]) for day in ("2013-01-01", "2013-01-02")]
    assert cli.main(["runs", "--status", "LOADED", "--json", *endpoint]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert {r["file_id"] for r in runs} >= {r["file_id"] for r in lcl_loaded["results"]}
    with pytest.raises(SystemExit) as bad_month:
        cli.main(["report", "monthly", "--month", "2013-13", *endpoint])
    assert bad_month.value.code == 2


def test_cli_fails_with_a_one_line_reason(stack: Stack, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["rerun", "does-not-exist", "--endpoint", stack.endpoint, "--env", stack.environment])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "does-not-exist" in err


def test_gridflow_up_prints_a_reachable_endpoint_and_the_bucket(gridflow_up: Any, stack: Stack) -> None:
    assert gridflow_up.printed["endpoint"] == f"http://127.0.0.1:{gridflow_up.port}"
    assert gridflow_up.printed["bucket"] == stack.data_bucket
    names = [bucket["Name"] for bucket in stack.client("s3").list_buckets()["Buckets"]]
    assert stack.data_bucket in names


def test_the_same_content_under_another_name_is_a_duplicate(stack: Stack, lcl_loaded: dict[str, Any],
                                                            tmp_path: Path) -> None:
    """Policy: identity is the content (feed, ETag, size), not the key; a resend under a new name is skipped."""
    meters = [path.stem for path in lcl_loaded["paths"]]
    before = _snapshot(stack, "lcl_halfhourly", meters)
    resent = tmp_path / "MAC000016-resent.csv"
    resent.write_bytes(lcl_loaded["paths"][1].read_bytes())
    [again] = commands.ingest(stack, [resent], "lcl_halfhourly", wait=True)
    assert again["status"] == "DUPLICATE" and again["file_id"] == lcl_loaded["results"][1]["file_id"]
    assert _snapshot(stack, "lcl_halfhourly", meters) == before
