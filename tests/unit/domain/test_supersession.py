"""Re-delivered readings count once: a file's contribution nets out the latest older delivery of each interval."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa

from tasks.domain.daily_totals import ALL_SLOTS, combine_partials, partial_daily_totals
from tasks.domain.reading_schema import KWH_TYPE, parsed_schema
from tasks.domain.supersession import (DELIVERY_COLUMNS, PossibleRepeats, net_of, older_deliveries, possibly_repeated,
                                      superseded)

DAY = datetime(2024, 3, 1)


def _readings(file_id: str, delivered: datetime, values: dict[tuple[str, int], str]) -> pa.Table:
    """Readings of one file: {(meter, half-hour index): kWh} on DAY."""
    rows = [{"meter_id": meter, "channel": "import", "interval_start": DAY + timedelta(minutes=30 * slot),
             "interval_minutes": 30, "kwh": Decimal(kwh), "quality": "A", "anomalies": None, "source_line": i + 2,
             "file_id": file_id, "ingested_at": delivered, "reading_date": date(2024, 3, 1)}
            for i, ((meter, slot), kwh) in enumerate(sorted(values.items()))]
    return pa.Table.from_pylist(rows, schema=parsed_schema())


def _contribution(file: pa.Table, delivered: datetime, file_id: str, earlier: list[pa.Table]) -> dict:
    """What the file's daily-total items hold: its own totals net of what it re-delivers."""
    meter_day = combine_partials([partial_daily_totals(file)])
    others = pa.concat_tables([t.select(DELIVERY_COLUMNS) for t in earlier]) if earlier else \
        pa.schema([]).empty_table()
    older = older_deliveries(others, delivered, file_id, pa.array(sorted(set(file["meter_id"].to_pylist()))))
    netted = net_of(meter_day, superseded(file, older))
    return {row["meter_id"]: (row["kwh"], row["readings"]) for row in netted.to_pylist()}


def _latest_totals(files: list[pa.Table]) -> dict[str, tuple[Decimal, int]]:
    """Independent oracle: per interval the value of the latest delivery, summed per meter."""
    latest: dict[tuple[str, datetime], tuple[tuple[datetime, str], Decimal]] = {}
    for table in files:
        for row in table.to_pylist():
            key, order = (row["meter_id"], row["interval_start"]), (row["ingested_at"], row["file_id"])
            if key not in latest or latest[key][0] < order:
                latest[key] = (order, row["kwh"])
    out: dict[str, list] = {}
    for (meter, _), (_, kwh) in latest.items():
        entry = out.setdefault(meter, [Decimal(0), 0])
        entry[0] += kwh
        entry[1] += 1
    return {meter: (kwh, count) for meter, (kwh, count) in out.items()}


def _sum(contributions: list[dict]) -> dict[str, tuple[Decimal, int]]:
    out: dict[str, list] = {}
    for contribution in contributions:
        for meter, (kwh, count) in contribution.items():
            entry = out.setdefault(meter, [Decimal(0), 0])
            entry[0] += kwh
            entry[1] += count
    return {meter: (kwh, count) for meter, (kwh, count) in out.items()}


T1, T2, T3 = datetime(2024, 3, 2, 8), datetime(2024, 3, 2, 9), datetime(2024, 3, 3, 7)
FIRST = _readings("aaa", T1, {("m1", 0): "1.5", ("m1", 1): "2.25", ("m2", 0): "7"})
CORRECTION = _readings("bbb", T2, {("m1", 1): "3.125", ("m1", 2): "0.5"})
SECOND_CORRECTION = _readings("ccc", T3, {("m1", 1): "4", ("m2", 0): "6.000000001"})


def test_contributions_of_successive_deliveries_sum_to_the_latest_values() -> None:
    files = [(FIRST, T1, "aaa"), (CORRECTION, T2, "bbb"), (SECOND_CORRECTION, T3, "ccc")]
    contributions = [_contribution(table, at, fid, [t for t, _, _ in files[:i]])
                     for i, (table, at, fid) in enumerate(files)]
    assert _sum(contributions) == _latest_totals([FIRST, CORRECTION, SECOND_CORRECTION])
    assert _sum(contributions)["m1"] == (Decimal("1.5") + Decimal("4") + Decimal("0.5"), 3)


def test_a_rerun_of_an_older_file_after_newer_ones_recomputes_its_own_contribution() -> None:
    first_load = _contribution(FIRST, T1, "aaa", [])
    rerun = _contribution(FIRST, T1, "aaa", [CORRECTION, SECOND_CORRECTION])
    assert rerun == first_load == {"m1": (Decimal("3.75"), 2), "m2": (Decimal("7"), 1)}


def test_a_file_that_shares_no_interval_keeps_its_full_totals() -> None:
    other_day = _readings("ddd", T2, {("m3", 5): "2"})
    assert _contribution(other_day, T2, "ddd", [FIRST]) == {"m3": (Decimal("2"), 1)}


def test_same_delivery_time_is_ordered_by_file_id() -> None:
    tie = _readings("abc", T1, {("m1", 0): "9"})
    assert _contribution(tie, T1, "abc", [FIRST]) == {"m1": (Decimal("7.5"), 0)}
    assert _contribution(FIRST, T1, "aaa", [tie])["m1"] == (Decimal("3.75"), 2)


def test_netting_keeps_exact_decimals() -> None:
    netted = _contribution(SECOND_CORRECTION, T3, "ccc", [FIRST, CORRECTION])
    assert netted["m2"] == (Decimal("0.000000001") - Decimal("1"), 0)
    assert KWH_TYPE.scale == 9


def test_a_file_sorted_by_meter_or_by_time_has_no_possible_repeats_where_chunks_split_a_meter_day() -> None:
    """By meter: chunk 1 holds m1 and the start of m2, chunk 2 the rest of m2 and m3. By time: each chunk holds
    one half-hour of every meter. The halves of a meter-day cover different slots of the day: nothing to read."""
    chunk_1 = _readings("aaa", T1, {("m1", 0): "1", ("m1", 1): "1", ("m2", 0): "1"})
    chunk_2 = _readings("aaa", T1, {("m2", 1): "1", ("m3", 0): "1", ("m3", 1): "1"})
    by_time = [_readings("aaa", T1, {(meter, half_hour): "1" for meter in ("m1", "m2", "m3")})
               for half_hour in range(48)]
    nothing = PossibleRepeats([], [], [])
    assert possibly_repeated([partial_daily_totals(chunk_1), partial_daily_totals(chunk_2)]) == nothing
    assert possibly_repeated([partial_daily_totals(chunk) for chunk in by_time]) == nothing
    assert possibly_repeated([partial_daily_totals(chunk_1)]) == nothing


def test_an_interval_given_again_in_another_chunk_names_its_meter_day_and_the_chunks_holding_it() -> None:
    chunks = [_readings("aaa", T1, {("m1", 0): "1", ("m2", 0): "1"}),
              _readings("aaa", T1, {("m3", 5): "1"}),
              _readings("aaa", T1, {("m2", 1): "1", ("m4", 0): "1"}),
              _readings("aaa", T1, {("m2", 0): "2"})]
    assert possibly_repeated([partial_daily_totals(chunk) for chunk in chunks]) == PossibleRepeats(
        ["m2"], ["2024-03-01"], [0, 2, 3])


def test_intervals_shorter_than_a_slot_are_always_read_back() -> None:
    """Five-minute readings share slots, so their meter-days are marked as covering all of them."""
    five_minutes = [pa.Table.from_pylist([{**row, "interval_start": DAY + timedelta(minutes=5 * n),
                                           "interval_minutes": 5} for row in
                                          _readings("aaa", T1, {("m1", 0): "1"}).to_pylist()],
                                         schema=parsed_schema()) for n in (0, 1)]
    partials = [partial_daily_totals(pa.concat_tables(five_minutes)), partial_daily_totals(
        _readings("aaa", T1, {("m1", 40): "1"}))]
    assert partials[0]["slots"].to_pylist() == [ALL_SLOTS]
    assert possibly_repeated(partials) == PossibleRepeats(["m1"], ["2024-03-01"], [0, 1])
