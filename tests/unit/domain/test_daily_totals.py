"""Daily totals: per chunk, combined per file, rolled up per feed-day; exact decimal sums throughout."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

import pyarrow as pa
import pytest

from tasks.domain.daily_totals import (
    FEED_DAY_SCHEMA,
    METER_DAY_SCHEMA,
    combine_partials,
    feed_day_totals,
    partial_daily_totals,
)
from tasks.domain.feed_spec import FeedSpec
from tasks.domain.reading_parser import parse_chunk
from tests.unit.domain.support import (
    FILE_ID,
    INGESTED_AT,
    header_length,
    meter_day_totals,
    real_bytes,
    reference_daily_totals,
    reference_readings,
)

Row = tuple[str, str, str]  # (meter, timestamp, kWh text) of an lcl_halfhourly line

TWO_METERS: list[Row] = [
    ("MAC_A", "2013-01-01 00:00:00", "0.1"),
    ("MAC_A", "2013-01-01 00:30:00", "0.2"),
    ("MAC_B", "2013-01-01 00:00:00", "0.000000001"),
    ("MAC_A", "2013-01-02 00:00:00", "0.3"),
    ("MAC_B", "2013-01-01 23:30:00", "49.999999999"),
]


def readings_of(spec: FeedSpec, rows: list[Row]) -> pa.Table:
    body = "".join(f"{meter},{stamp}, {value} \n" for meter, stamp, value in rows).encode()
    parsed = parse_chunk(spec, body, 2, FILE_ID, INGESTED_AT)
    assert parsed.rejected.num_rows == 0
    return parsed.readings


def feed_days(table: pa.Table) -> dict[tuple[str, str], tuple[Decimal, int, int, int]]:
    """{(channel, day): (kwh, readings, anomalies, meters)}"""
    return {(r["channel"], r["day"]): (r["kwh"], r["readings"], r["anomalies"], r["meters"])
            for r in table.to_pylist()}


def expected_feed_days(channel_rows: dict[str, list[Row]]) -> dict[tuple[str, str], tuple[Decimal, int, int, int]]:
    kwh: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    count: dict[tuple[str, str], int] = defaultdict(int)
    meters: dict[tuple[str, str], set[str]] = defaultdict(set)
    for channel, rows in channel_rows.items():
        for meter, stamp, value in rows:
            key = (channel, stamp[:10])
            kwh[key] += Decimal(value)
            count[key] += 1
            meters[key].add(meter)
    return {key: (kwh[key], count[key], 0, len(meters[key])) for key in kwh}


def test_gentrack_small_consumption_days_sum_exactly(wide_spec: FeedSpec) -> None:
    data = real_bytes("gentrack_seed/small-consumption.csv")
    parsed = parse_chunk(wide_spec, data[header_length(data):], 2, FILE_ID, INGESTED_AT)

    meter_day = combine_partials([partial_daily_totals(parsed.readings)])

    assert meter_day_totals(meter_day) == {("EE00011", "2019-01-01"): (Decimal(24), 48),
                                           ("EE00011", "2019-01-02"): (Decimal(47), 48)}
    assert [row["kwh"] for row in meter_day.to_pylist()] == [Decimal(24), Decimal(47)]
    assert feed_days(feed_day_totals(meter_day)) == {("import", "2019-01-01"): (Decimal(24), 48, 0, 1),
                                                     ("import", "2019-01-02"): (Decimal(47), 48, 0, 1)}


def test_gentrack_consumption_feed_days_match_an_independent_sum(wide_spec: FeedSpec) -> None:
    data = real_bytes("gentrack_seed/consumption.csv")
    expected = reference_daily_totals(reference_readings(data, "wide"))
    parsed = parse_chunk(wide_spec, data[header_length(data):], 2, FILE_ID, INGESTED_AT)

    days = feed_days(feed_day_totals(partial_daily_totals(parsed.readings)))

    assert days == {("import", day): (kwh, readings, 0, 1) for (_, day), (kwh, readings) in expected.items()}
    assert len(days) == 31


def test_feed_day_totals_count_meters_and_sum_across_them(lcl_spec: FeedSpec) -> None:
    meter_day = partial_daily_totals(readings_of(lcl_spec, TWO_METERS))
    assert meter_day_totals(meter_day) == {("MAC_A", "2013-01-01"): (Decimal("0.3"), 2),
                                           ("MAC_A", "2013-01-02"): (Decimal("0.3"), 1),
                                           ("MAC_B", "2013-01-01"): (Decimal("50"), 2)}

    days = feed_day_totals(meter_day)

    assert days.schema == FEED_DAY_SCHEMA
    assert feed_days(days) == expected_feed_days({"import": TWO_METERS})
    assert feed_days(days) == {("import", "2013-01-01"): (Decimal("50.3"), 4, 0, 2),
                               ("import", "2013-01-02"): (Decimal("0.3"), 1, 0, 1)}


def test_feed_day_totals_keep_channels_apart(lcl_spec: FeedSpec) -> None:
    export_rows: list[Row] = [("MAC_0", "2013-01-02 12:00:00", "1.5"), ("MAC_C", "2013-01-01 12:30:00", "2.25")]
    export = readings_of(dataclasses.replace(lcl_spec, channel="export"), export_rows)
    meter_day = combine_partials([partial_daily_totals(readings_of(lcl_spec, TWO_METERS)),
                                  partial_daily_totals(export)])

    days = feed_day_totals(meter_day)

    assert feed_days(days) == expected_feed_days({"import": TWO_METERS, "export": export_rows})
    assert [(row["channel"], row["day"]) for row in days.to_pylist()] == [
        ("export", "2013-01-01"), ("export", "2013-01-02"), ("import", "2013-01-01"), ("import", "2013-01-02")]


@pytest.mark.parametrize("cuts", [(0,), (1,), (47, 48, 49), (300,), (100, 200, 300, 400, 500, 600, 700), (720,)],
                         ids=str)
def test_combining_partials_of_split_readings_equals_the_whole(lcl_spec: FeedSpec, cuts: tuple[int, ...]) -> None:
    data = real_bytes("lcl_halfhourly/MAC000016.csv")
    readings = parse_chunk(lcl_spec, data[header_length(data):], 2, FILE_ID, INGESTED_AT).readings
    bounds = [0, *cuts, readings.num_rows]
    pieces = [readings.slice(start, end - start) for start, end in zip(bounds, bounds[1:])]

    partials = [partial_daily_totals(piece) for piece in reversed(pieces)]
    combined = combine_partials(partials)

    whole = partial_daily_totals(readings)
    assert combined.equals(whole.drop_columns(["slots"]))
    slots: dict[tuple[str, str, str], int] = {}
    for row in pa.concat_tables(partials).to_pylist():
        key = (row["meter_id"], row["channel"], row["day"])
        assert slots.get(key, 0) & row["slots"] == 0, "pieces of one file never share a half-hour's slot"
        slots[key] = slots.get(key, 0) | row["slots"]
    assert slots == {(row["meter_id"], row["channel"], row["day"]): row["slots"] for row in whole.to_pylist()}
    assert meter_day_totals(combined) == reference_daily_totals(reference_readings(data, "long"))


def test_combine_no_partials_is_empty() -> None:
    combined = combine_partials([])
    assert combined.num_rows == 0
    assert combined.schema == METER_DAY_SCHEMA


@pytest.mark.parametrize(("value", "count", "total"), [
    ("0.1", 10, Decimal("1")),
    ("0.000000001", 48, Decimal("0.000000048")),
    ("49.999999999", 48, Decimal("2399.999999952")),
    ("1.0779999", 3, Decimal("3.2339997")),
    ("12345678.123456789", 3, Decimal("37037034.370370367")),  # 17 digits: more than a float64 holds
    ("999999999.999999999", 48, Decimal("47999999999.999999952")),  # the largest decimal(18,9) kWh
])
def test_sums_are_exact_decimals(lcl_spec: FeedSpec, value: str, count: int, total: Decimal) -> None:
    rows = [("MAC_A", f"2013-01-01 {k // 2:02d}:{30 * (k % 2):02d}:00", value) for k in range(count)]
    meter_day = partial_daily_totals(readings_of(dataclasses.replace(lcl_spec, max_kwh=None), rows))

    assert pa.types.is_decimal(meter_day.schema.field("kwh").type)
    assert meter_day_totals(meter_day) == {("MAC_A", "2013-01-01"): (total, count)}
    assert feed_days(feed_day_totals(meter_day))[("import", "2013-01-01")][0] == total


def test_anomalies_are_counted_per_meter_day(lcl_spec: FeedSpec) -> None:
    readings = readings_of(lcl_spec, TWO_METERS)
    flags = pa.array(["spike", None, None, "gap,spike", "estimated"], pa.string())
    readings = readings.set_column(readings.schema.get_field_index("anomalies"), "anomalies", flags)

    meter_day = partial_daily_totals(readings)

    assert {(r["meter_id"], r["day"]): r["anomalies"] for r in meter_day.to_pylist()} == {
        ("MAC_A", "2013-01-01"): 1, ("MAC_A", "2013-01-02"): 1, ("MAC_B", "2013-01-01"): 1}
    assert {r["day"]: r["anomalies"] for r in feed_day_totals(meter_day).to_pylist()} == {
        "2013-01-01": 2, "2013-01-02": 1}
