"""Every real file of shared/data/real/ through S3 and the state machine, checked against the raw file.

Each feed is a spec in feeds/ and no Python of its own. The expected figures come from
tests/integration/real_feed_oracles.py (csv, Decimal and zoneinfo; none of gridflow's parsing).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from gridflow import commands
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tests.integration import real_feed_oracles
from tests.integration.real_feed_oracles import Expected
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

FEEDS: dict[str, tuple[str, Callable[[Path], Expected]]] = {
    "esb_hdf": ("esb_hdf/HDF_EXAMPLE.csv", real_feed_oracles.esb_hdf),
    "n3rgy_hourly": ("n3rgy_household/230630_hourly.csv", real_feed_oracles.n3rgy_hourly),
    "hydro_kw": ("oxford_hydro/Sandford_hydro_generation_30_min_date.csv", real_feed_oracles.hydro_kw),
    "lcl_daily": ("lcl_daily/block_0_MAC000002_daily.csv",
                  lambda path: real_feed_oracles.lcl_daily(path, "MAC000002")),
}
COVERAGE_MINIMUM = Decimal("0.9")


@pytest.fixture(scope="module")
def loaded(stack: Stack) -> dict[str, dict[str, Any]]:
    """Each real file dropped into inbound/<feed>/ once, with what its raw file says it should give."""
    out = {}
    for feed, (relative, oracle) in FEEDS.items():
        path = real_file(relative)
        [result] = commands.ingest(stack, [path], feed, wait=True)
        out[feed] = {"result": result, "expected": oracle(path)}
    return out


def _totals(stack: Stack, feed: str, meter: str, channel: str) -> dict[str, dict[str, Any]]:
    rows = commands.totals(stack, feed, meter, "2000-01-01", "2099-12-31")
    return {row["date"]: row for row in rows if row["channel"] == channel}


def _rejected_rules(stack: Stack, feed: str, file_id: str) -> Counter[str]:
    """The rule of every row in the file's rejected/ objects."""
    s3 = stack.client("s3")
    rules: Counter[str] = Counter()
    listing = s3.list_objects_v2(Bucket=stack.data_bucket, Prefix=f"rejected/{feed}/{file_id}/")
    for item in listing.get("Contents", []):
        text = s3.get_object(Bucket=stack.data_bucket, Key=item["Key"])["Body"].read().decode("utf-8")
        rules.update(row["rule"] for row in csv.DictReader(io.StringIO(text)))
    return rules


@pytest.mark.parametrize("feed", list(FEEDS))
def test_real_file_loads_with_the_rows_the_raw_file_allows(loaded: dict[str, dict[str, Any]], stack: Stack,
                                                           feed: str) -> None:
    result, expected = loaded[feed]["result"], loaded[feed]["expected"]
    assert result["status"] == "LOADED", result
    assert result["rows_loaded"] == expected.loaded
    assert result["rows_rejected"] == sum(expected.rejected.values())
    assert _rejected_rules(stack, feed, result["file_id"]) == expected.rejected


@pytest.mark.parametrize("feed", list(FEEDS))
def test_daily_totals_coverage_and_flags_match_the_raw_file(loaded: dict[str, dict[str, Any]], stack: Stack,
                                                            feed: str) -> None:
    expected = loaded[feed]["expected"]
    for meter, channel in sorted({(meter, channel) for meter, channel, _ in expected.days}):
        want = {day: figures for (m, c, day), figures in expected.days.items() if (m, c) == (meter, channel)}
        got = _totals(stack, feed, meter, channel)
        assert sorted(got) == sorted(want), (meter, channel)
        for day, figures in want.items():
            row = got[day]
            coverage = (Decimal(figures.readings) / figures.expected).quantize(Decimal("0.0001"))
            assert (row["kwh"], row["readings"], row["expected"], row["anomalies"], row["duplicates"]) == (
                figures.kwh, figures.readings, figures.expected, figures.anomalies, figures.duplicates), (
                meter, channel, day)
            assert (row["coverage"], row["complete"]) == (coverage, coverage >= COVERAGE_MINIMUM)


@pytest.mark.parametrize(("day", "intervals", "kwh"), [
    ("2023-03-26", 46, Decimal("13.0275")),  # spring forward: 01:00 and 01:30 never happen
    ("2023-10-29", 50, Decimal("16.3600")),  # fall back: 01:00 and 01:30 twice, newest first
])
def test_esb_dst_days_have_every_interval_at_its_own_utc_instant(loaded: dict[str, dict[str, Any]], stack: Stack,
                                                                 day: str, intervals: int, kwh: Decimal) -> None:
    assert loaded["esb_hdf"]["result"]["status"] == "LOADED"
    row = _totals(stack, "esb_hdf", "XXXX", "import")[day]
    assert (row["readings"], row["expected"], row["kwh"], row["complete"]) == (intervals, intervals, kwh, True)
    figures = loaded["esb_hdf"]["expected"].days[("XXXX", "import", day)]
    assert (figures.readings, figures.kwh) == (intervals, kwh)


def test_esb_fall_back_readings_are_distinct_half_hours_in_the_lake(loaded: dict[str, dict[str, Any]],
                                                                    stack: Stack) -> None:
    """The end labels 01:00 and 01:30 come twice, newest first: the first of each pair is the later (GMT) instant.

    File lines, newest first: 02:00 0.1245 | 01:30 0.1265 | 01:00 0.1300 | 01:30 0.1380 | 01:00 0.1330 | 00:30 0.2410
    """
    s3 = stack.client("s3")
    file_id = loaded["esb_hdf"]["result"]["file_id"]
    prefix = "curated/readings/feed=esb_hdf/reading_date=2023-10-29/"
    rows = []
    for item in s3.list_objects_v2(Bucket=stack.data_bucket, Prefix=prefix)["Contents"]:
        body = s3.get_object(Bucket=stack.data_bucket, Key=item["Key"])["Body"].read()
        rows += pq.read_table(io.BytesIO(body)).to_pylist()
    imports = {row["interval_start"].strftime("%m-%d %H:%M"): row["kwh"] for row in rows
               if row["channel"] == "import" and row["file_id"] == file_id}
    assert len(imports) == 50
    assert {start: imports[start] for start in ("10-28 23:00", "10-28 23:30", "10-29 00:00", "10-29 00:30",
                                                "10-29 01:00", "10-29 01:30")} == {
        "10-28 23:00": Decimal("0.241"), "10-28 23:30": Decimal("0.133"), "10-29 00:00": Decimal("0.138"),
        "10-29 00:30": Decimal("0.13"), "10-29 01:00": Decimal("0.1265"), "10-29 01:30": Decimal("0.1245")}


def test_lcl_daily_agrees_with_the_half_hourly_file_of_the_same_meter(loaded: dict[str, dict[str, Any]],
                                                                      stack: Stack) -> None:
    """Two files from two publishers: the daily energy of 2013 equals the sum of that day's half hours."""
    from tests.integration import expected_totals  # noqa: PLC0415

    half_hourly = expected_totals.lcl_halfhourly(real_file("lcl_halfhourly/MAC000002.csv"))
    daily = _totals(stack, "lcl_daily", "MAC000002", "import")
    assert loaded["lcl_daily"]["result"]["status"] == "LOADED"
    assert {day: daily[day]["kwh"] for (_, day) in half_hourly} == {day: kwh for (_, day), (kwh, _) in
                                                                   half_hourly.items()}


def test_monthly_report_carries_coverage_and_flags(loaded: dict[str, dict[str, Any]], stack: Stack) -> None:
    expected = loaded["esb_hdf"]["expected"]
    rows = {row["channel"]: row for row in commands.monthly_report(stack, "2023-10", "esb_hdf")}
    for channel, row in rows.items():
        days = {day: f for (_, c, day), f in expected.days.items() if c == channel and day.startswith("2023-10")}
        readings = sum(f.readings for f in days.values())
        intervals = sum(f.expected for f in days.values())
        assert (Decimal(row["total_kwh"]), row["readings"], row["expected_readings"]) == (
            sum((f.kwh for f in days.values()), Decimal(0)), readings, intervals)
        assert row["coverage"] == round(readings / intervals, 4)
        assert row["days_with_gaps"] == sum(f.readings < f.expected for f in days.values())
        assert row["anomalous_readings"] == sum(f.anomalies for f in days.values())
    assert set(rows) == {"import", "export"}


def test_plant_1_merge_conflict_is_quarantined_with_a_plain_reason(stack: Stack) -> None:
    path = real_file("solar_plant_weather/Plant_1_Weather_Sensor_Data.csv")
    [result] = commands.ingest(stack, [path], "solar_weather", wait=True)
    assert result["status"] == "QUARANTINED" and result["rows_loaded"] == 0
    assert "line 3184 is a git merge-conflict marker" in result["error"]
    record = audit_table.get_file(stack.audit_table, result["file_id"])
    assert record["current_key"].startswith("quarantine/solar_weather/")
    assert commands.totals(stack, "solar_weather", None, "2000-01-01", "2099-12-31") == []


def test_a_file_whose_columns_do_not_match_the_feed_is_quarantined(stack: Stack) -> None:
    path = real_file("esb_hdf/HDF_EXAMPLE.csv")
    [result] = commands.ingest(stack, [path], "hydro_kw", wait=True)
    assert result["status"] == "QUARANTINED"
    assert "feed hydro_kw expects columns ['Date_Time'" in result["error"] and "'MPRN'" in result["error"]
    record = audit_table.get_file(stack.audit_table, result["file_id"])
    head = stack.client("s3").head_object(Bucket=stack.data_bucket, Key=record["current_key"])
    assert head["Metadata"]["gridflow-rule"] == "header_mismatch"
