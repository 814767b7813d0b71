"""parse_chunk: a chunk's lines to readings plus rejected rows, each rejection with its rule, line and text."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from tasks.domain.feed_spec import FeedSpec
from tasks.domain.reading_parser import ParsedChunk, parse_chunk
from tasks.domain.reading_schema import REJECTED_SCHEMA, parsed_schema
from tests.unit.domain.support import (
    FILE_ID,
    HALF_HOUR,
    INGESTED_AT,
    LCL_FILES,
    header_length,
    non_blank_lines,
    real_bytes,
    reading_tuples,
)

FIRST_LINE = 40
GOOD_BEFORE = "MAC000002,2013-01-01 00:00:00, 0.219 "
GOOD_AFTER = "MAC000002,2013-01-01 01:00:00, 0.241 "
GLUE_SCHEMA = Path(__file__).resolve().parents[3] / "glue" / "readings.json"
WIDE_INTERVALS = 48


def parse(spec: FeedSpec, lines: list[str], first_line: int = FIRST_LINE, newline: str = "\n") -> ParsedChunk:
    return parse_chunk(spec, (newline.join(lines) + newline).encode(), first_line, FILE_ID, INGESTED_AT)


def rejected_rows(parsed: ParsedChunk) -> list[dict[str, Any]]:
    return parsed.rejected.to_pylist()


def wide_column(k: int) -> str:
    """The gentrack label of the k-th half hour: 0:00, 0:30, 1:00, ... 23:30."""
    return f"{k // 2}:{'30' if k % 2 else '00'}"


def wide_line(meter: str, day: str, values: list[str]) -> str:
    return ",".join([meter, day, *values])


REJECTIONS = [
    pytest.param("MAC000002,2013-01-01 00:30:00", "column_count", "2 fields", id="column_count-too-few"),
    pytest.param("MAC000002,2013-01-01 00:30:00, 0.5 ,7", "column_count", "4 fields", id="column_count-too-many"),
    pytest.param(" ,2013-01-01 00:30:00, 0.5 ", "missing_meter", "LCLid", id="missing_meter"),
    pytest.param("MAC000002,2013-13-01 00:30:00, 0.5 ", "bad_timestamp", "'2013-13-01 00:30:00'",
                 id="bad_timestamp-month-13"),
    pytest.param("MAC000002,2013-01-01T00:30:00, 0.5 ", "bad_timestamp", "'2013-01-01T00:30:00'",
                 id="bad_timestamp-iso-t"),
    pytest.param("MAC000002,2013-01-01 24:00:00, 0.5 ", "bad_timestamp", "'2013-01-01 24:00:00'",
                 id="bad_timestamp-hour-24"),
    pytest.param("MAC000002,2013-02-30 00:30:00, 0.5 ", "bad_timestamp", "'2013-02-30 00:30:00'",
                 id="bad_timestamp-february-30"),
    pytest.param("MAC000002,2013-04-31 00:30:00, 0.5 ", "bad_timestamp", "'2013-04-31 00:30:00'",
                 id="bad_timestamp-april-31"),
    pytest.param("MAC000002,2013-01-01 00:30:00,Null", "missing_value", "'Null'", id="missing_value-null"),
    pytest.param("MAC000002,2013-01-01 00:30:00, ", "missing_value", "''", id="missing_value-empty"),
    pytest.param("MAC000002,2013-01-01 00:30:00, abc ", "non_numeric", "'abc'", id="non_numeric-word"),
    pytest.param("MAC000002,2013-01-01 00:30:00,1e3", "non_numeric", "'1e3'", id="non_numeric-exponent"),
    pytest.param("MAC000002,2013-01-01 00:30:00,0.2.1", "non_numeric", "'0.2.1'", id="non_numeric-two-points"),
    pytest.param("MAC000002,2013-01-01 00:30:00, 0.1234567891 ", "precision", "'0.1234567891'",
                 id="precision-10-decimals"),
    pytest.param("MAC000002,2013-01-01 00:30:00,0.0000000000001", "precision", "'0.0000000000001'",
                 id="precision-13-decimals"),
    pytest.param("MAC000002,2013-01-01 00:30:00, -0.001 ", "negative", "'-0.001'", id="negative"),
    pytest.param("MAC000002,2013-01-01 00:30:00,50.000000001", "out_of_range", "'50.000000001'",
                 id="out_of_range-above-max"),
    pytest.param("MAC000002,2013-01-01 00:30:00,1234567890123", "out_of_range", "'1234567890123'",
                 id="out_of_range-13-digits"),
]


@pytest.mark.parametrize(("line", "rule", "offending"), REJECTIONS)
def test_a_bad_row_is_rejected_with_rule_line_reason_and_raw(lcl_spec: FeedSpec, line: str, rule: str,
                                                             offending: str) -> None:
    parsed = parse(lcl_spec, [GOOD_BEFORE, line, GOOD_AFTER])

    rejected = rejected_rows(parsed)
    assert [(r["source_line"], r["rule"], r["raw"]) for r in rejected] == [(FIRST_LINE + 1, rule, line)]
    assert offending in rejected[0]["reason"]
    assert parsed.readings["source_line"].to_pylist() == [FIRST_LINE, FIRST_LINE + 2]
    assert parsed.blank_lines == 0


@pytest.mark.parametrize("value", ["0", "50", "50.000000000", "0.000000001", "+1.5", "1.", ".5", "049.5"])
def test_boundary_and_unusual_but_valid_values_load_exactly(lcl_spec: FeedSpec, value: str) -> None:
    parsed = parse(lcl_spec, [f"MAC000002,2013-01-01 00:30:00,{value}"])
    assert parsed.rejected.num_rows == 0
    assert parsed.readings["kwh"].to_pylist() == [Decimal(value)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_blank_lines_are_counted_and_do_not_shift_line_numbers(lcl_spec: FeedSpec, newline: str) -> None:
    lines = [GOOD_BEFORE, "", GOOD_AFTER, "   ", "\t", "MAC000002,2013-01-01 01:30:00,abc", "",
             "MAC000002,2013-01-01 02:00:00, 1.0779999 "]
    parsed = parse(lcl_spec, lines, first_line=100, newline=newline)

    assert parsed.blank_lines == 4
    assert parsed.readings["source_line"].to_pylist() == [100, 102, 107]
    assert parsed.readings["kwh"].to_pylist() == [Decimal("0.219"), Decimal("0.241"), Decimal("1.0779999")]
    assert [(r["source_line"], r["rule"], r["raw"]) for r in rejected_rows(parsed)] == [
        (105, "non_numeric", "MAC000002,2013-01-01 01:30:00,abc")]


def test_good_rows_become_canonical_readings(lcl_spec: FeedSpec) -> None:
    parsed = parse(lcl_spec, [GOOD_BEFORE, GOOD_AFTER], first_line=7)
    assert parsed.readings.to_pylist() == [
        {"meter_id": "MAC000002", "channel": "import", "interval_start": start, "interval_minutes": 30, "day_intervals": 48,
         "kwh": kwh, "quality": "A", "anomalies": None, "source_line": line, "file_id": FILE_ID,
         "ingested_at": INGESTED_AT, "reading_date": start.date()}
        for line, start, kwh in [(7, datetime(2013, 1, 1, 0, 0), Decimal("0.219")),
                                 (8, datetime(2013, 1, 1, 1, 0), Decimal("0.241"))]]


@pytest.mark.parametrize(("marks", "interval", "start"), [
    ("start", 30, datetime(2013, 1, 1, 0, 0)),
    ("end", 30, datetime(2012, 12, 31, 23, 30)),
    ("end", 15, datetime(2012, 12, 31, 23, 45)),
])
def test_timestamps_marking_the_interval_end_are_moved_to_its_start(lcl_spec: FeedSpec, marks: str, interval: int,
                                                                     start: datetime) -> None:
    spec = dataclasses.replace(lcl_spec, timestamp_marks=marks, interval_minutes=interval)
    parsed = parse(spec, ["MAC000002,2013-01-01 00:00:00, 0.5 "])
    assert parsed.readings["interval_start"].to_pylist() == [start]
    assert parsed.readings["reading_date"].to_pylist() == [start.date()]


def test_readings_and_rejected_schemas(lcl_spec: FeedSpec) -> None:
    glue_columns = [column["name"] for column in json.loads(GLUE_SCHEMA.read_text())["columns"]]
    for lines in ([GOOD_BEFORE], ["MAC000002,2013-01-01 00:30:00,abc"]):
        parsed = parse(lcl_spec, lines)
        assert parsed.readings.schema == parsed_schema()
        assert parsed.readings.schema.names == [*glue_columns, "reading_date"]
        assert parsed.readings.schema.field("kwh").type == pa.decimal128(18, 9)
        assert parsed.rejected.schema == REJECTED_SCHEMA


def test_wide_row_gives_one_reading_per_half_hour(wide_spec: FeedSpec) -> None:
    values = [f"{k}.{k:02d}" for k in range(WIDE_INTERVALS)]
    parsed = parse(wide_spec, [wide_line("EE00099", "2019-03-31", values)], first_line=12, newline="\r\n")

    midnight = datetime(2019, 3, 31)
    assert parsed.rejected.num_rows == 0
    assert sorted(reading_tuples(parsed.readings), key=lambda r: r[2]) == [
        (12, "EE00099", midnight + k * timedelta(minutes=30), Decimal(values[k])) for k in range(WIDE_INTERVALS)]
    assert set(parsed.readings["interval_minutes"].to_pylist()) == {30}


@pytest.mark.parametrize("k", [0, 27, WIDE_INTERVALS - 1])
def test_wide_missing_cell_is_rejected_naming_its_column(wide_spec: FeedSpec, k: int) -> None:
    values = ["1"] * WIDE_INTERVALS
    values[k] = ""
    line = wide_line("EE00099", "2019-01-02", values)
    parsed = parse(wide_spec, ["EE00099,2019-01-01," + ",".join(["2"] * WIDE_INTERVALS), line], first_line=2)

    rejected = rejected_rows(parsed)
    assert [(r["source_line"], r["rule"], r["raw"]) for r in rejected] == [(3, "missing_value", line)]
    assert wide_column(k) in rejected[0]["reason"]
    missing_start = datetime(2019, 1, 2) + k * HALF_HOUR
    assert missing_start not in parsed.readings["interval_start"].to_pylist()
    assert parsed.readings.num_rows == 2 * WIDE_INTERVALS - 1


@pytest.mark.parametrize("day", [
    "2019-13-01",
    "01/02/2019",
    pytest.param("2019-02-30"),
])
def test_wide_bad_date_rejects_the_row(wide_spec: FeedSpec, day: str) -> None:
    line = wide_line("EE00099", day, ["1"] * WIDE_INTERVALS)
    parsed = parse(wide_spec, [line], first_line=5)
    assert parsed.readings.num_rows == 0
    assert {(r["source_line"], r["rule"], r["raw"]) for r in rejected_rows(parsed)} == {(5, "bad_timestamp", line)}
    assert f"'{day}'" in rejected_rows(parsed)[0]["reason"]


@pytest.mark.parametrize(("unit", "interval", "text", "kwh"), [
    ("kWh", 30, "1.0779999", Decimal("1.0779999")),
    ("Wh", 30, "1234", Decimal("1.234")),
    ("Wh", 30, "0.001", Decimal("0.000001")),
    ("MWh", 30, "0.0015", Decimal("1.5")),
    ("MWh", 30, "0.000000001", Decimal("0.000001")),
    ("kW", 30, "0.5", Decimal("0.25")),
    ("kW", 15, "2", Decimal("0.5")),
    ("kW", 60, "3.3", Decimal("3.3")),
    ("W", 30, "1", Decimal("0.0005")),
    ("W", 60, "250", Decimal("0.25")),
    ("MW", 30, "0.001", Decimal("0.5")),
])
def test_units_convert_to_exact_kwh(lcl_spec: FeedSpec, unit: str, interval: int, text: str, kwh: Decimal) -> None:
    spec = dataclasses.replace(lcl_spec, unit=unit, interval_minutes=interval)
    parsed = parse(spec, [f"MAC000002,2013-01-01 01:00:00,{text}"])
    assert parsed.rejected.num_rows == 0
    assert parsed.readings["kwh"].to_pylist() == [kwh]
    assert parsed.readings["interval_minutes"].to_pylist() == [interval]


@pytest.mark.parametrize(("unit", "text"), [("Wh", "0.0000001"), ("W", "0.000001")])
def test_conversion_that_would_lose_decimals_is_rejected(lcl_spec: FeedSpec, unit: str, text: str) -> None:
    parsed = parse(dataclasses.replace(lcl_spec, unit=unit), [f"MAC000002,2013-01-01 00:30:00,{text}"])
    assert parsed.readings.num_rows == 0
    assert rejected_rows(parsed)[0]["rule"] == "precision"


def test_value_range_applies_to_kwh_after_conversion(lcl_spec: FeedSpec) -> None:
    spec = dataclasses.replace(lcl_spec, unit="Wh")
    parsed = parse(spec, ["MAC000002,2013-01-01 00:30:00,50000", "MAC000002,2013-01-01 01:00:00,50001"])
    assert parsed.readings["kwh"].to_pylist() == [Decimal(50)]
    assert [(r["source_line"], r["rule"]) for r in rejected_rows(parsed)] == [(FIRST_LINE + 1, "out_of_range")]


@pytest.mark.parametrize("relative", LCL_FILES)
def test_every_row_of_a_real_file_is_loaded_or_rejected(lcl_spec: FeedSpec, relative: str) -> None:
    data = real_bytes(relative)
    header_end = header_length(data)
    body = data[header_end:]
    expected_sum, expected_rows, seven_decimals = Decimal(0), 0, {}
    for number, line in enumerate(body.decode().splitlines(), start=2):
        meter, stamp, value = (field.strip() for field in line.split(","))
        expected_sum += Decimal(value)
        expected_rows += 1
        if len(value.partition(".")[2]) == 7:
            seven_decimals[number] = Decimal(value)

    parsed = parse_chunk(lcl_spec, body, 2, FILE_ID, INGESTED_AT)

    data_lines = body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    assert parsed.readings.num_rows + parsed.rejected.num_rows + parsed.blank_lines == data_lines
    assert parsed.readings.num_rows == expected_rows == non_blank_lines(body)
    lines = parsed.readings["source_line"].to_pylist() + parsed.rejected["source_line"].to_pylist()
    assert sorted(lines) == list(range(2, 2 + expected_rows))
    assert sum(parsed.readings["kwh"].to_pylist(), Decimal(0)) == expected_sum
    by_line = dict(zip(parsed.readings["source_line"].to_pylist(), parsed.readings["kwh"].to_pylist()))
    assert {line: by_line[line] for line in seven_decimals} == seven_decimals
