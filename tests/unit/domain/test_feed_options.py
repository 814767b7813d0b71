"""Every feed-spec option, driven end to end: a spec document -> plan_file -> parse_chunk (-> daily totals).

Each option has a case that works and the case it exists to catch. Expected values are written by hand or
computed with datetime/zoneinfo/Decimal, never with the code under test.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pytest

from tasks.domain.chunk_plan import plan_file
from tasks.domain.daily_totals import partial_daily_totals
from tasks.domain.errors import InvalidFeedSpec, InvalidFile
from tasks.domain.feed_spec import FeedSpec, parse_feed_spec
from tasks.domain.reading_parser import ParsedChunk, parse_chunk
from tests.unit.domain.support import FILE_ID, HALF_HOUR, INGESTED_AT

FEED = "options_feed"
FILE_NAME = "options.csv"
TARGET_CHUNK_BYTES = 1 << 20
LONDON, DUBLIN = "Europe/London", "Europe/Dublin"
HOUR_LABELS = [f"{hour:02d}:00" for hour in range(24)]
BASE_DOCUMENT: dict[str, Any] = {
    "layout": "long",
    "columns": ["meter", "time", "kwh"],
    "meter": {"column": "meter"},
    "timestamp": {"column": "time", "format": "%Y-%m-%d %H:%M"},
    "value": {"column": "kwh"},
}


class _Remove:
    """Marks a key of BASE_DOCUMENT that a test's changes take out."""


REMOVE = _Remove()


# ---------------------------------------------------------------- helpers


def merged(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """base with changes applied: nested dicts merge, REMOVE deletes a key, anything else replaces."""
    result = copy.deepcopy(base)
    for key, change in changes.items():
        if change is REMOVE:
            result.pop(key, None)
        elif isinstance(change, dict) and isinstance(result.get(key), dict):
            result[key] = merged(result[key], change)
        else:
            result[key] = copy.deepcopy(change)
    return result


def make_spec(**changes: Any) -> FeedSpec:
    return parse_feed_spec(FEED, merged(BASE_DOCUMENT, changes))


def wide_changes(labels: list[str], minutes: int, zone: str = "UTC") -> dict[str, Any]:
    """A wide layout: meter, day, then one column per interval labelled by its wall-clock start."""
    return {"layout": "wide", "columns": ["meter", "day", *labels], "timestamp": REMOVE, "value": REMOVE,
            "date": {"column": "day"}, "interval_minutes": minutes, "timezone": zone}


def file_body(spec: FeedSpec, rows: list[str]) -> bytes:
    """The rows as a file in the spec's encoding, after a header of its columns when it has one."""
    lines = ([spec.delimiter.join(spec.columns)] if spec.header else []) + rows
    return ("\n".join(lines) + "\n").encode(spec.encoding)


def load_bytes(spec: FeedSpec, body: bytes, file_name: str = FILE_NAME) -> ParsedChunk:
    """Plan the file as the pipeline does, parse every chunk, and put the chunks' results together."""
    plan = plan_file([body], spec, TARGET_CHUNK_BYTES)
    parts = [parse_chunk(spec, body[chunk.start:chunk.end], chunk.first_line, FILE_ID, INGESTED_AT, file_name)
             for chunk in plan.chunks]
    return ParsedChunk(readings=pa.concat_tables([part.readings for part in parts]),
                       rejected=pa.concat_tables([part.rejected for part in parts]),
                       blank_lines=sum(part.blank_lines for part in parts),
                       duplicates=pa.concat_tables([part.duplicates for part in parts]))


def load(spec: FeedSpec, rows: list[str], file_name: str = FILE_NAME) -> ParsedChunk:
    return load_bytes(spec, file_body(spec, rows), file_name)


def values_of(table: pa.Table, *names: str) -> list[tuple[Any, ...]]:
    """The named columns of a table, row by row."""
    return list(zip(*(table[name].to_pylist() for name in names), strict=True))


def rules_of(parsed: ParsedChunk) -> list[tuple[int, str]]:
    return values_of(parsed.rejected, "source_line", "rule")


def only_reason(parsed: ParsedChunk) -> str:
    (reason,) = parsed.rejected["reason"].to_pylist()
    return reason


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def utc(local: str, zone: str, fold: int = 0) -> datetime:
    """The naive UTC instant of a wall-clock time in zone (fold=1: the second of a repeated time)."""
    wall = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone), fold=fold)
    return wall.astimezone(timezone.utc).replace(tzinfo=None)


def consecutive(first: datetime, count: int, step: timedelta = HALF_HOUR) -> list[datetime]:
    return [first + k * step for k in range(count)]


# ---------------------------------------------------------------- csv.*


@pytest.mark.parametrize("delimiter", [";", "|", "\t"], ids=["semicolon", "pipe", "tab"])
def test_delimiter_splits_the_fields(delimiter: str) -> None:
    spec = make_spec(csv={"delimiter": delimiter})
    parsed = load(spec, [delimiter.join(["M1", "2019-01-01 00:30", "0.5"])])

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "meter_id", "interval_start", "kwh") == [
        ("M1", at("2019-01-01 00:30"), Decimal("0.5"))]


def test_a_file_in_another_delimiter_is_a_header_mismatch_naming_it() -> None:
    spec = make_spec(csv={"delimiter": ";"})
    with pytest.raises(InvalidFile) as raised:
        load_bytes(spec, b"meter,time,kwh\nM1,2019-01-01 00:30,0.5\n")
    assert raised.value.rule == "header_mismatch"
    assert "','" in raised.value.reason


@pytest.mark.parametrize("quote", ['"', "'"], ids=["double", "single"])
def test_quoted_fields_may_hold_the_delimiter(quote: str) -> None:
    spec = make_spec(csv={"quote": quote})
    parsed = load(spec, [f"{quote}M,1{quote},2019-01-01 00:30,{quote} 0.5 {quote}"])

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "meter_id", "kwh") == [("M,1", Decimal("0.5"))]


def test_quote_null_reads_quotes_as_text_and_splits_at_every_delimiter() -> None:
    spec = make_spec(csv={"quote": None})
    parsed = load(spec, ['"M1",2019-01-01 00:30,0.5', '"M,2",2019-01-01 00:30,0.5'])

    assert values_of(parsed.readings, "meter_id", "source_line") == [('"M1"', 2)]
    assert rules_of(parsed) == [(3, "column_count")]
    assert "4 fields" in only_reason(parsed)


def test_headerless_file_has_data_from_line_one() -> None:
    spec = make_spec(csv={"header": False})
    parsed = load(spec, ["M1,2019-01-01 00:00,0.5", "meter,time,kwh", "M1,2019-01-01 00:30,0.25"])

    assert values_of(parsed.readings, "source_line", "interval_start", "kwh") == [
        (1, at("2019-01-01 00:00"), Decimal("0.5")), (3, at("2019-01-01 00:30"), Decimal("0.25"))]
    assert rules_of(parsed) == [(2, "bad_timestamp")]  # a header line in a headerless feed is just a bad row


HEADERLESS_WITH_BOM = "\ufeffM1,2019-01-01 00:00,0.5\n".encode()


def test_headerless_parser_strips_a_leading_bom_from_the_first_field() -> None:
    spec = make_spec(csv={"header": False})
    parsed = parse_chunk(spec, HEADERLESS_WITH_BOM, 1, FILE_ID, INGESTED_AT, FILE_NAME)

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "meter_id", "source_line") == [("M1", 1)]


def test_headerless_file_starting_with_a_bom_is_planned_and_loaded() -> None:
    spec = make_spec(csv={"header": False})
    parsed = load_bytes(spec, HEADERLESS_WITH_BOM)

    assert values_of(parsed.readings, "meter_id", "source_line") == [("M1", 1)]


def test_encoding_decodes_a_latin_1_meter_id() -> None:
    spec = make_spec(csv={"encoding": "latin-1"})
    body = "meter,time,kwh\nZürich-7,2019-01-01 00:30,0.5\n".encode("latin-1")
    assert b"Z\xfcrich" in body

    parsed = load_bytes(spec, body)
    assert values_of(parsed.readings, "meter_id", "kwh") == [("Zürich-7", Decimal("0.5"))]


def test_a_file_not_in_the_feeds_encoding_is_quarantined() -> None:
    body = "meter,time,kwh\nZürich-7,2019-01-01 00:30,0.5\n".encode("latin-1")
    with pytest.raises(InvalidFile) as raised:
        load_bytes(make_spec(), body)
    assert raised.value.rule == "encoding"
    assert "line 2" in raised.value.reason


# ---------------------------------------------------------------- columns


@pytest.mark.parametrize(("meter", "time", "value"), [("meter", "time", "kwh"), (0, 1, 2), (0, "time", 2)],
                         ids=["names", "positions", "mixed"])
def test_columns_by_name_or_by_position(meter: str | int, time: str | int, value: str | int) -> None:
    spec = make_spec(meter={"column": meter}, timestamp={"column": time}, value={"column": value})
    assert (spec.meter_column, spec.timestamp_column, spec.value_column) == ("meter", "time", "kwh")

    parsed = load(spec, ["M1,2019-01-01 00:30,0.5"])
    assert values_of(parsed.readings, "meter_id", "interval_start", "kwh") == [
        ("M1", at("2019-01-01 00:30"), Decimal("0.5"))]


def test_unnamed_trailing_columns_are_read_and_ignored() -> None:
    spec = make_spec(columns=["Date_Time", "power", "", "", "", ""], meter={"column": REMOVE, "fixed": "hydro"},
                     timestamp={"column": "Date_Time", "format": "%d/%m/%y %H:%M"}, value={"column": "power"})
    parsed = load(spec, ["1/1/19 00:00,0.5,,,,", "1/1/19 00:30,0.75,,,", "2/1/19 13:30, 1.25 ,,,,"])

    assert values_of(parsed.readings, "meter_id", "interval_start", "kwh") == [
        ("hydro", at("2019-01-01 00:00"), Decimal("0.5")), ("hydro", at("2019-01-02 13:30"), Decimal("1.25"))]
    assert rules_of(parsed) == [(3, "column_count")]
    assert "5 fields" in only_reason(parsed)


@pytest.mark.parametrize(("text", "kwh"), [(" 0.219 ", "0.219"), ("  +1.5", "1.5"), (".5 ", "0.5"),
                                           ("007", "7"), ("2.", "2")])
def test_values_are_trimmed_and_read_exactly(text: str, kwh: str) -> None:
    parsed = load(make_spec(), [f"M1,2019-01-01 00:30,{text}"])
    assert rules_of(parsed) == []
    assert parsed.readings["kwh"].to_pylist() == [Decimal(kwh)]


@pytest.mark.parametrize("text", [" 1e3 ", "0.2.1", "0,5", "½"])
def test_a_value_that_is_not_a_plain_decimal_is_non_numeric(text: str) -> None:
    parsed = load(make_spec(csv={"delimiter": ";"}), [f"M1;2019-01-01 00:30;{text}"])
    assert rules_of(parsed) == [(2, "non_numeric")]
    assert repr(text.strip()) in only_reason(parsed)


# ---------------------------------------------------------------- meter.*


def test_meter_fixed_applies_to_every_row() -> None:
    spec = make_spec(columns=["time", "kwh"], meter={"column": REMOVE, "fixed": "site-7"})
    parsed = load(spec, ["2019-01-01 00:00,0.5", "2019-01-01 00:30,0.25"])
    assert parsed.readings["meter_id"].to_pylist() == ["site-7", "site-7"]


def test_an_empty_meter_column_is_missing_meter() -> None:
    parsed = load(make_spec(), ["  ,2019-01-01 00:30,0.5", "M1,2019-01-01 00:30,0.5"])
    assert rules_of(parsed) == [(2, "missing_meter")]
    assert "meter is empty" in only_reason(parsed)
    assert parsed.readings["source_line"].to_pylist() == [3]


FILE_NAME_METERS = [
    pytest.param("(MAC\\d+)", "block_12/MAC000123.csv", "MAC000123", id="group"),
    pytest.param("MAC\\d+", "x_MAC000042_y.csv", "MAC000042", id="whole-match-without-group"),
    pytest.param("^meter-(\\w+)\\.csv$", "meter-A1.csv", "A1", id="anchored"),
]


@pytest.mark.parametrize(("pattern", "file_name", "meter"), FILE_NAME_METERS)
def test_meter_from_file_name(pattern: str, file_name: str, meter: str) -> None:
    spec = make_spec(columns=["time", "kwh"], meter={"column": REMOVE, "from_file_name": pattern})
    parsed = load(spec, ["2019-01-01 00:00,0.5", "2019-01-01 00:30,0.25"], file_name=file_name)
    assert parsed.readings["meter_id"].to_pylist() == [meter, meter]


def test_a_file_name_without_a_meter_rejects_every_row_naming_the_file() -> None:
    spec = make_spec(columns=["time", "kwh"], meter={"column": REMOVE, "from_file_name": "(MAC\\d+)"})
    parsed = load(spec, ["2019-01-01 00:00,0.5", "2019-01-01 00:30,0.25"], file_name="summary.csv")

    assert parsed.readings.num_rows == 0
    assert rules_of(parsed) == [(2, "missing_meter"), (3, "missing_meter")]
    for reason in parsed.rejected["reason"].to_pylist():
        assert "'summary.csv'" in reason and "(MAC\\\\d+)" in reason


# ---------------------------------------------------------------- layout


def test_wide_layout_gives_one_reading_per_interval_column() -> None:
    spec = make_spec(**wide_changes(["00:00", "06:00", "12:00", "18:00"], 360))
    parsed = load(spec, ["M1,2019-01-01,1,2,,4"])

    assert values_of(parsed.readings, "interval_start", "kwh", "day_intervals") == [
        (at("2019-01-01 00:00"), Decimal(1), 4), (at("2019-01-01 06:00"), Decimal(2), 4),
        (at("2019-01-01 18:00"), Decimal(4), 4)]
    assert rules_of(parsed) == [(2, "missing_value")]
    assert "12:00" in only_reason(parsed)


def test_wide_columns_in_a_local_zone_are_wall_clock_labels() -> None:
    spec = make_spec(**wide_changes(HOUR_LABELS, 60, LONDON))
    parsed = load(spec, ["M1,2019-06-01," + ",".join(f"{hour}.5" for hour in range(24))])

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "interval_start", "kwh") == [
        (utc(f"2019-06-01 {label}", LONDON), Decimal(f"{hour}.5")) for hour, label in enumerate(HOUR_LABELS)]
    assert parsed.readings["interval_start"][0].as_py() == at("2019-05-31 23:00")
    assert set(values_of(parsed.readings, "reading_date", "day_intervals")) == {(date(2019, 6, 1), 24)}


def test_wide_column_of_a_skipped_local_hour_does_not_exist() -> None:
    spec = make_spec(**wide_changes(HOUR_LABELS, 60, LONDON))
    parsed = load(spec, ["M1,2019-03-31," + ",".join(["1"] * 24)])

    assert rules_of(parsed) == [(2, "nonexistent_time")]
    existing = [label for label in HOUR_LABELS if label != "01:00"]
    assert parsed.readings["interval_start"].to_pylist() == [utc(f"2019-03-31 {label}", LONDON) for label in existing]
    assert set(values_of(parsed.readings, "reading_date", "day_intervals")) == {(date(2019, 3, 31), 23)}


# ---------------------------------------------------------------- value.columns (one column per channel)


def n3rgy_spec() -> FeedSpec:
    return make_spec(columns=["local_time", "elec_import_kwh", "gas_kwh"], meter={"column": REMOVE, "fixed": "home"},
                     timestamp={"column": "local_time", "format": "%Y-%m-%d %H:%M:%S", "marks": "end"},
                     value={"column": REMOVE, "columns": {"elec_import_kwh": "electricity", "gas_kwh": "gas"}},
                     timezone=LONDON, interval_minutes=60, missing_values=["", "NA"])


def test_value_columns_give_one_reading_per_channel_and_missing_rejects_only_that_channel() -> None:
    parsed = load(n3rgy_spec(), ["2019-01-01 01:00:00,0.5,1.25", "2019-07-01 01:00:00,0.4,NA"])

    assert sorted(values_of(parsed.readings, "source_line", "channel", "interval_start", "kwh", "reading_date")) == [
        (2, "electricity", at("2019-01-01 00:00"), Decimal("0.5"), date(2019, 1, 1)),
        (2, "gas", at("2019-01-01 00:00"), Decimal("1.25"), date(2019, 1, 1)),
        (3, "electricity", at("2019-06-30 23:00"), Decimal("0.4"), date(2019, 7, 1))]
    assert rules_of(parsed) == [(3, "missing_value")]
    assert "gas_kwh" in only_reason(parsed) and "'NA'" in only_reason(parsed)


# ---------------------------------------------------------------- channel.*


CHANNEL_SOURCES = [
    pytest.param({"fixed": "generation"}, ["generation", "generation"], id="fixed"),
    pytest.param({"column": "type"}, ["AI", "AE"], id="column-as-written"),
    pytest.param({"column": 1}, ["AI", "AE"], id="column-by-position"),
    pytest.param({"column": "type", "map": {"AI": "import", "AE": "export"}}, ["import", "export"], id="map"),
]


def typed_spec(channel: dict[str, Any], **changes: Any) -> FeedSpec:
    """A long feed whose second column holds a channel name (meter,type,time,kwh)."""
    return make_spec(columns=["meter", "type", "time", "kwh"], channel=channel, **changes)


@pytest.mark.parametrize(("channel", "expected"), CHANNEL_SOURCES)
def test_channel_sources(channel: dict[str, Any], expected: list[str]) -> None:
    parsed = load(typed_spec(channel), ["M1,AI,2019-01-01 00:30,0.5", "M1,AE,2019-01-01 01:00,0.25"])
    assert rules_of(parsed) == []
    assert parsed.readings["channel"].to_pylist() == expected


def test_a_channel_the_map_does_not_know_is_unknown_channel() -> None:
    spec = typed_spec({"column": "type", "map": {"AI": "import"}})
    parsed = load(spec, ["M1,AI,2019-01-01 00:30,0.5", "M1,Reactive,2019-01-01 00:30,0.25"])

    assert values_of(parsed.readings, "source_line", "channel") == [(2, "import")]
    assert rules_of(parsed) == [(3, "unknown_channel")]
    assert "'Reactive'" in only_reason(parsed) and "'AI'" in only_reason(parsed)


# ---------------------------------------------------------------- value.unit


@pytest.mark.parametrize(("unit", "minutes", "text", "kwh"), [
    ("Wh", 30, "500", "0.5"),
    ("kWh", 30, "0.5", "0.5"),
    ("MWh", 30, "0.0005", "0.5"),
    ("W", 30, "2000", "1"),
    ("kW", 30, "2", "1"),
    ("MW", 30, "0.002", "1"),
    ("kW", 15, "2", "0.5"),
    ("kW", 60, "2", "2"),
    ("W", 1440, "1000", "24"),
])
def test_units_convert_to_kwh(unit: str, minutes: int, text: str, kwh: str) -> None:
    spec = make_spec(value={"unit": unit}, interval_minutes=minutes)
    parsed = load(spec, [f"M1,2019-01-01 00:00,{text}"])
    assert rules_of(parsed) == []
    assert parsed.readings["kwh"].to_pylist() == [Decimal(kwh)]


@pytest.mark.parametrize(("unit", "text"), [("Wh", "0.0000001"), ("W", "0.000001")])
def test_a_unit_conversion_needing_more_than_nine_decimals_is_precision(unit: str, text: str) -> None:
    parsed = load(make_spec(value={"unit": unit}), [f"M1,2019-01-01 00:00,{text}"])
    assert rules_of(parsed) == [(2, "precision")]


# ---------------------------------------------------------------- interval_minutes, timestamp.marks, timezone


PLACEMENTS = [
    pytest.param("UTC", 15, "start", "2019-01-01 00:45", "2019-01-01 00:45", 96, id="15-start"),
    pytest.param("UTC", 15, "end", "2019-01-01 00:45", "2019-01-01 00:30", 96, id="15-end"),
    pytest.param("UTC", 30, "start", "2019-01-02 00:00", "2019-01-02 00:00", 48, id="30-start-midnight"),
    pytest.param("UTC", 30, "end", "2019-01-02 00:00", "2019-01-01 23:30", 48, id="30-end-midnight-is-day-before"),
    pytest.param("UTC", 60, "end", "2019-01-02 00:00", "2019-01-01 23:00", 24, id="60-end"),
    pytest.param("UTC", 1440, "start", "2019-01-01 00:00", "2019-01-01 00:00", 1, id="daily-start"),
    pytest.param("UTC", 1440, "end", "2019-01-02 00:00", "2019-01-01 00:00", 1, id="daily-end"),
    pytest.param(LONDON, 30, "start", "2019-07-01 00:30", "2019-06-30 23:30", 48, id="london-summer"),
    pytest.param(LONDON, 30, "start", "2019-01-01 00:30", "2019-01-01 00:30", 48, id="london-winter"),
    pytest.param(DUBLIN, 30, "start", "2019-07-01 00:30", "2019-06-30 23:30", 48, id="dublin-summer"),
    pytest.param(DUBLIN, 30, "start", "2019-01-01 00:30", "2019-01-01 00:30", 48, id="dublin-winter"),
    pytest.param(LONDON, 30, "end", "2019-07-02 00:00", "2019-07-01 22:30", 48, id="london-end-midnight"),
    pytest.param("Asia/Kathmandu", 60, "start", "2019-01-01 01:00", "2018-12-31 19:15", 24, id="kathmandu"),
]


@pytest.mark.parametrize(("zone", "minutes", "marks", "label", "start", "day_intervals"), PLACEMENTS)
def test_interval_start_in_utc_and_local_reading_date(zone: str, minutes: int, marks: str, label: str, start: str,
                                                     day_intervals: int) -> None:
    spec = make_spec(timezone=zone, interval_minutes=minutes, timestamp={"marks": marks})
    parsed = load(spec, [f"M1,{label},0.5"])

    local_start = at(label) - (timedelta(minutes=minutes) if marks == "end" else timedelta(0))
    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "interval_start", "interval_minutes", "reading_date", "day_intervals") == [
        (at(start), minutes, local_start.date(), day_intervals)]
    assert utc(local_start.isoformat(), zone) == at(start)  # the hand-written instant agrees with zoneinfo


@pytest.mark.parametrize(("zone", "day", "minutes", "intervals"), [
    ("UTC", "2019-03-31", 30, 48),
    (LONDON, "2019-03-31", 30, 46),
    (LONDON, "2019-10-27", 30, 50),
    (LONDON, "2019-06-01", 30, 48),
    (LONDON, "2019-03-31", 60, 23),
    (LONDON, "2019-10-27", 60, 25),
    (LONDON, "2019-06-01", 60, 24),
    (DUBLIN, "2023-03-26", 30, 46),
    (DUBLIN, "2023-10-29", 30, 50),
    (DUBLIN, "2023-10-29", 60, 25),
])
def test_day_intervals_count_the_local_days_intervals(zone: str, day: str, minutes: int, intervals: int) -> None:
    spec = make_spec(timezone=zone, interval_minutes=minutes)
    parsed = load(spec, [f"M1,{day} 00:00,0.5", f"M1,{day} 23:00,0.5"])

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "reading_date", "day_intervals") == [(date.fromisoformat(day), intervals)] * 2


@pytest.mark.parametrize(("zone", "label", "rules"), [
    pytest.param(LONDON, "2019-03-31 01:30", [(3, "nonexistent_time")], id="london-01:30"),
    pytest.param(LONDON, "2019-03-31 01:00", [(3, "nonexistent_time")], id="london-01:00"),
    pytest.param(DUBLIN, "2023-03-26 01:00", [(3, "nonexistent_time")], id="dublin-01:00"),
    pytest.param("UTC", "2019-03-31 01:30", [], id="utc-has-no-gap"),
])
def test_a_local_time_skipped_by_the_clocks_is_nonexistent(zone: str, label: str,
                                                           rules: list[tuple[int, str]]) -> None:
    spec = make_spec(timezone=zone)
    parsed = load(spec, [f"M1,{label[:10]} 00:30,0.5", f"M1,{label},0.5", f"M1,{label[:10]} 03:00,0.5"])

    assert rules_of(parsed) == rules
    if rules:
        assert f"does not exist in {zone}" in only_reason(parsed)
    assert parsed.readings.num_rows == 3 - len(rules)


def test_repeated_local_times_in_ascending_files_are_earlier_first_per_meter() -> None:
    spec = make_spec(timezone=LONDON, timestamp={"repeated_local_time": "first_is_earlier"})
    labels = [("00:30", 0), ("01:00", 0), ("01:30", 0), ("01:00", 1), ("01:30", 1), ("02:00", 0)]
    rows = [f"{meter},2019-10-27 {label},{k}.{meter_number}"
            for k, (label, _) in enumerate(labels) for meter_number, meter in enumerate(["A", "B"])]
    parsed = load(spec, rows)

    assert rules_of(parsed) == []
    expected = [(meter, utc(f"2019-10-27 {label}", LONDON, fold), Decimal(f"{k}.{meter_number}"))
                for k, (label, fold) in enumerate(labels) for meter_number, meter in enumerate(["A", "B"])]
    assert values_of(parsed.readings, "meter_id", "interval_start", "kwh") == expected
    for meter in ("A", "B"):
        starts = [start for name, start, _ in expected if name == meter]
        assert starts == consecutive(at("2019-10-26 23:30"), 6)
    assert set(values_of(parsed.readings, "reading_date", "day_intervals")) == {(date(2019, 10, 27), 50)}


def test_repeated_local_times_in_newest_first_files_are_later_first() -> None:
    """ESB style: Europe/Dublin, end-marked labels, newest row first; 01:00 and 01:30 are written twice."""
    spec = make_spec(timezone=DUBLIN, timestamp={"format": "%d-%m-%Y %H:%M", "marks": "end",
                                                  "repeated_local_time": "first_is_later"})
    labels = [("02:00", 0, "0.6"), ("01:30", 1, "0.5"), ("01:00", 1, "0.4"), ("01:30", 0, "0.3"),
              ("01:00", 0, "0.2"), ("00:30", 0, "0.1")]
    parsed = load(spec, [f"M1,29-10-2023 {label},{value}" for label, _, value in labels])

    assert rules_of(parsed) == [] and parsed.duplicates.num_rows == 0
    expected = [(utc(f"2023-10-29 {label}", DUBLIN, fold) - HALF_HOUR, Decimal(value)) for label, fold, value in labels]
    assert values_of(parsed.readings, "interval_start", "kwh") == expected
    assert sorted(start for start, _ in expected) == consecutive(at("2023-10-28 23:00"), 6)
    assert set(values_of(parsed.readings, "reading_date", "day_intervals")) == {(date(2023, 10, 29), 50)}


# ---------------------------------------------------------------- missing_values, range


@pytest.mark.parametrize(("token", "rule"), [("", "missing_value"), ("NA", "missing_value"), ("-", "missing_value"),
                                             ("Null", "non_numeric")])
def test_missing_value_tokens(token: str, rule: str) -> None:
    spec = make_spec(missing_values=["", "NA", "-"])
    parsed = load(spec, ["M1,2019-01-01 00:00,0.5", f"M1,2019-01-01 00:30,{token}"])

    assert rules_of(parsed) == [(3, rule)]
    assert f"kwh is {'missing (' if rule == 'missing_value' else ''}{token!r}" in only_reason(parsed)
    assert parsed.readings["source_line"].to_pylist() == [2]


@pytest.mark.parametrize(("text", "rules"), [("0.1", []), ("50", []), ("0.099999999", [(2, "out_of_range")]),
                                             ("50.000000001", [(2, "out_of_range")])])
def test_range_rejects_kwh_outside_it_by_default(text: str, rules: list[tuple[int, str]]) -> None:
    parsed = load(make_spec(range={"min_kwh": 0.1, "max_kwh": 50}), [f"M1,2019-01-01 00:00,{text}"])

    assert rules_of(parsed) == rules
    assert parsed.readings.num_rows == 1 - len(rules)
    if rules:
        assert "[0.1, 50]" in only_reason(parsed)


def test_out_of_range_flag_loads_the_reading_with_an_anomaly() -> None:
    spec = make_spec(range={"max_kwh": 50}, checks={"out_of_range": "flag"})
    parsed = load(spec, ["M1,2019-01-01 00:00,75", "M1,2019-01-01 00:30,5"])

    assert rules_of(parsed) == []
    assert values_of(parsed.readings, "kwh", "anomalies") == [(Decimal(75), "out_of_range"), (Decimal(5), None)]


# ---------------------------------------------------------------- checks.*


@pytest.mark.parametrize(("action", "rules", "anomalies"), [
    ("reject", [(3, "negative")], [None]),
    ("flag", [], [None, "negative"]),
    ("allow", [], [None, None]),
])
def test_negative_values(action: str, rules: list[tuple[int, str]], anomalies: list[str | None]) -> None:
    parsed = load(make_spec(checks={"negative": action}), ["M1,2019-01-01 00:00,0.5", "M1,2019-01-01 00:30,-0.25"])
    assert rules_of(parsed) == rules
    assert parsed.readings["anomalies"].to_pylist() == anomalies


def test_negative_channels_allowed_may_be_negative() -> None:
    spec = typed_spec({"column": "type"}, checks={"negative_channels_allowed": ["export", "net"]})
    parsed = load(spec, ["M1,import,2019-01-01 00:00,-0.1", "M1,export,2019-01-01 00:00,-0.2",
                         "M1,net,2019-01-01 00:00,-0.3", "M1,Export,2019-01-01 00:00,-0.4"])

    assert values_of(parsed.readings, "channel", "kwh", "anomalies") == [
        ("export", Decimal("-0.2"), None), ("net", Decimal("-0.3"), None)]
    assert rules_of(parsed) == [(2, "negative"), (5, "negative")]


@pytest.mark.parametrize(("action", "rules", "anomalies"), [
    ("reject", [(3, "off_grid")], [None]),
    ("flag", [], [None, "off_grid"]),
])
def test_off_grid_timestamps(action: str, rules: list[tuple[int, str]], anomalies: list[str | None]) -> None:
    parsed = load(make_spec(checks={"off_grid": action}), ["M1,2019-01-01 00:30,0.5", "M1,2019-01-01 00:10,0.5"])
    assert rules_of(parsed) == rules
    assert parsed.readings["anomalies"].to_pylist() == anomalies
    if rules:
        assert "'2019-01-01 00:10'" in only_reason(parsed) and "30-minute grid" in only_reason(parsed)


def test_several_flags_on_one_reading_are_comma_separated() -> None:
    spec = make_spec(range={"max_kwh": -1}, checks={"negative": "flag", "out_of_range": "flag", "off_grid": "flag"})
    parsed = load(spec, ["M1,2019-01-01 00:10,-0.5"])
    assert parsed.readings["anomalies"].to_pylist() == ["negative,out_of_range,off_grid"]


def test_spike_factor_flags_values_above_factor_times_the_meters_median() -> None:
    spec = make_spec(checks={"spike_factor": 4})
    values = {"A": ["0.25", "0.25", "0.25", "1.0", "1.5"], "B": ["0", "0", "0", "9"]}  # medians 0.25 and 0
    rows = [f"{meter},2019-01-01 0{k}:00,{value}" for meter, texts in values.items() for k, value in enumerate(texts)]
    parsed = load(spec, rows)

    assert rules_of(parsed) == []
    flagged = {(meter, kwh) for meter, kwh, anomalies in values_of(parsed.readings, "meter_id", "kwh", "anomalies")
               if anomalies == "spike"}
    assert flagged == {("A", Decimal("1.5"))}
    assert parsed.readings["anomalies"].null_count == parsed.readings.num_rows - 1


# ---------------------------------------------------------------- duplicates and daily totals


def test_repeated_intervals_keep_the_first_line_and_reject_the_rest() -> None:
    parsed = load(make_spec(), [
        "A,2019-01-01 00:00,0.5", "A,2019-01-01 00:00,0.5",
        "A,2019-01-01 00:30,0.2", "A,2019-01-01 00:30,0.3",
        "B,2019-01-01 00:00,0.5",
        "A,2019-01-02 00:00,0.1", "A,2019-01-02 00:00,0.1"])

    assert values_of(parsed.readings, "source_line", "meter_id", "kwh") == [
        (2, "A", Decimal("0.5")), (4, "A", Decimal("0.2")), (6, "B", Decimal("0.5")), (7, "A", Decimal("0.1"))]
    assert rules_of(parsed) == [(3, "duplicate"), (5, "conflicting_duplicate"), (8, "duplicate")]
    conflict = parsed.rejected["reason"][1].as_py()
    assert "line 4" in conflict and "0.2" in conflict and "0.3" in conflict
    assert sorted(parsed.duplicates.to_pylist(), key=lambda row: row["day"]) == [
        {"meter_id": "A", "channel": "import", "day": "2019-01-01", "duplicates": 2},
        {"meter_id": "A", "channel": "import", "day": "2019-01-02", "duplicates": 1}]


@pytest.mark.parametrize(("zone", "day", "expected"), [("UTC", "2019-10-27", 48), (LONDON, "2019-10-27", 50),
                                                       (LONDON, "2019-03-31", 46), (LONDON, "2019-06-01", 48)])
def test_partial_daily_totals_expect_the_local_days_intervals_and_carry_duplicates(zone: str, day: str,
                                                                                  expected: int) -> None:
    parsed = load(make_spec(timezone=zone), [f"A,{day} 00:00,0.5", f"A,{day} 00:00,0.5", f"A,{day} 12:00,0.25",
                                             f"B,{day} 12:00,1"])
    totals = partial_daily_totals(parsed.readings, parsed.duplicates)

    slots = {"A": 0, "B": 0}  # bit i: a reading starts in the i-th of 63 parts of its UTC day
    for row in parsed.readings.to_pylist():
        start = row["interval_start"]
        slots[row["meter_id"]] |= 1 << (start.hour * 60 + start.minute) * 63 // 1440
    assert totals.to_pylist() == [
        {"meter_id": "A", "channel": "import", "day": day, "kwh": Decimal("0.75"), "readings": 2, "anomalies": 0,
         "duplicates": 1, "expected": expected, "slots": slots["A"]},
        {"meter_id": "B", "channel": "import", "day": day, "kwh": Decimal(1), "readings": 1, "anomalies": 0,
         "duplicates": 0, "expected": expected, "slots": slots["B"]}]
    assert bin(slots["A"]).count("1") == 2


# ---------------------------------------------------------------- spec validation


@pytest.mark.parametrize("coverage", [0, 0.5, 1])
def test_min_coverage_between_zero_and_one_is_accepted(coverage: float) -> None:
    assert make_spec(checks={"min_coverage": coverage}).checks.min_coverage == Decimal(str(coverage))


def wide_with(labels: list[str], minutes: int, **more: Any) -> dict[str, Any]:
    return {**wide_changes(labels, minutes), **more}


INVALID_OPTIONS = [
    pytest.param({"csv": {"delimiter": ";;"}}, "csv.delimiter", id="delimiter-two-characters"),
    pytest.param({"csv": {"delimiter": ""}}, "csv.delimiter", id="delimiter-empty"),
    pytest.param({"columns": ["meter", "time", "meter"]}, "unique", id="columns-repeated"),
    pytest.param({"meter": {"column": 3}}, "meter.column", id="meter-position-past-end"),
    pytest.param({"meter": {"column": -1}}, "meter.column", id="meter-position-negative"),
    pytest.param({"meter": {"column": True}}, "meter.column", id="meter-position-bool"),
    pytest.param({"meter": {"column": "serial"}}, "'serial' is not in columns", id="meter-unknown-column"),
    pytest.param({"meter": {"fixed": "site"}}, "meter needs exactly one", id="meter-two-sources"),
    pytest.param({"meter": {"column": REMOVE}}, "meter needs exactly one", id="meter-no-source"),
    pytest.param({"meter": {"column": REMOVE, "from_file_name": "(MAC"}}, "meter.from_file_name", id="meter-regex"),
    pytest.param({"layout": "tall"}, "layout", id="layout-unknown"),
    pytest.param({"timestamp": {"column": REMOVE}}, "timestamp.column", id="long-without-timestamp"),
    pytest.param({"timestamp": {"column": 7}}, "timestamp.column", id="timestamp-position-past-end"),
    pytest.param({"timestamp": {"marks": "middle"}}, "timestamp.marks", id="marks-unknown"),
    pytest.param({"timestamp": {"repeated_local_time": "guess"}}, "timestamp.repeated_local_time",
                 id="repeated-local-time-unknown"),
    pytest.param({"value": REMOVE}, "value.column", id="long-without-value"),
    pytest.param({"value": {"columns": {"kwh": "import"}}}, "value.column", id="value-column-and-columns"),
    pytest.param({"value": {"column": REMOVE, "columns": {"kwh": "import"}}, "channel": {"column": "meter"}},
                 "channel needs exactly one", id="value-columns-and-channel-column"),
    pytest.param({"value": {"unit": "J"}}, "unit 'J'", id="unit-unknown"),
    pytest.param({"value": {"unit": "kW"}, "interval_minutes": 40}, "power unit", id="power-unit-40-minutes"),
    pytest.param({"channel": {"fixed": "import", "column": "meter"}}, "channel needs exactly one", id="channel-two"),
    pytest.param({"channel": {"fixed": "import", "map": {"a": "b"}}}, "channel.map needs channel.column",
                 id="channel-map-without-column"),
    pytest.param({"channel": {"column": "type"}}, "'type' is not in columns", id="channel-unknown-column"),
    pytest.param({"interval_minutes": 7}, "interval_minutes", id="interval-7"),
    pytest.param({"interval_minutes": 0}, "interval_minutes", id="interval-0"),
    pytest.param({"interval_minutes": 2880}, "interval_minutes", id="interval-2880"),
    pytest.param({"interval_minutes": "half"}, "interval_minutes", id="interval-text"),
    pytest.param({"timezone": "Mars/Olympus"}, "timezone 'Mars/Olympus'", id="timezone-unknown"),
    pytest.param({"range": {"min_kwh": "low"}}, "range.min_kwh", id="range-min-text"),
    pytest.param({"range": {"max_kwh": "lots"}}, "range.max_kwh", id="range-max-text"),
    pytest.param({"checks": {"negative": "ignore"}}, "checks.negative", id="negative-unknown"),
    pytest.param({"checks": {"out_of_range": "allow"}}, "checks.out_of_range", id="out-of-range-allow"),
    pytest.param({"checks": {"off_grid": "allow"}}, "checks.off_grid", id="off-grid-allow"),
    pytest.param({"checks": {"spike_factor": 1}}, "checks.spike_factor", id="spike-factor-1"),
    pytest.param({"checks": {"spike_factor": "big"}}, "checks.spike_factor", id="spike-factor-text"),
    pytest.param({"checks": {"min_coverage": -0.1}}, "checks.min_coverage", id="min-coverage-negative"),
    pytest.param({"checks": {"min_coverage": 1.01}}, "checks.min_coverage", id="min-coverage-above-one"),
    pytest.param({"checks": {"min_coverage": "most"}}, "checks.min_coverage", id="min-coverage-text"),
    pytest.param({"checks": {"coverage": 0.9}}, "coverage", id="checks-unknown-field"),
    pytest.param({"timezones": "UTC"}, "timezones", id="unknown-field"),
    pytest.param(wide_with(["00:00", "12:00", "18:00"], 360), "one column per interval", id="wide-too-few-columns"),
    pytest.param(wide_with(HOUR_LABELS, 60, date={"column": REMOVE}), "date.column", id="wide-without-date"),
    pytest.param(wide_with(HOUR_LABELS, 60, date={"column": "day", "first_interval_column": "two"}),
                 "date.first_interval_column", id="wide-first-interval-text"),
]


TYPE_AND_CONSISTENCY_ERRORS = [
    pytest.param({"missing_values": "NA"}, "missing_values", id="strict-missing_values"),
    pytest.param({"checks": {"negative_channels_allowed": "export"}}, "checks.negative_channels_allowed", id="strict-checks.negative_channels_allowed"),
    pytest.param({"csv": {"header": "false"}}, "csv.header", id="strict-csv.header"),
    pytest.param({"csv": {"quote": "ab"}}, "csv.quote", id="strict-csv.quote"),
    pytest.param({"csv": {"encoding": "no-such-codec"}}, "csv.encoding", id="strict-csv.encoding"),
    pytest.param({"csv": {"delimiter": '"'}}, "csv.delimiter", id="strict-csv.delimiter"),
    pytest.param({"range": {"min_kwh": 5, "max_kwh": 1}}, "range", id="strict-range"),
    pytest.param({"interval_minutes": 30.5}, "interval_minutes", id="strict-interval_minutes"),
    pytest.param({"checks": {"spike_factor": "NaN"}}, "checks.spike_factor", id="strict-checks.spike_factor"),
    pytest.param({"checks": {"min_coverage": "NaN"}}, "checks.min_coverage", id="strict-checks.min_coverage"),
]


@pytest.mark.parametrize(("changes", "field"), INVALID_OPTIONS + TYPE_AND_CONSISTENCY_ERRORS)
def test_an_invalid_option_raises_invalid_feed_spec_naming_the_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidFeedSpec) as raised:
        make_spec(**changes)
    assert field in str(raised.value)
    assert FEED in str(raised.value)
