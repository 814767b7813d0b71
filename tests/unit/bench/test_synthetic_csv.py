"""The synthetic file's own totals against an independent reading of the CSV it wrote."""

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from bench.synthetic_csv import HEADER, READINGS_PER_METER, write_csv, write_meters_csv


def independent_totals(path: Path) -> tuple[dict[str, list], set[tuple[str, str]]]:
    """Per day [readings, kWh] and the meter-days, read back with the csv module."""
    days: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    meter_days = set()
    with path.open(newline="") as source:
        rows = csv.reader(source)
        assert ",".join(next(rows)) == HEADER
        for meter_id, stamp, value in rows:
            days[stamp[:10]][0] += 1
            days[stamp[:10]][1] += Decimal(value.strip())
            meter_days.add((meter_id, stamp[:10]))
    return days, meter_days


def test_totals_match_an_independent_reading_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "readings.csv"
    readings = 2 * READINGS_PER_METER + 100  # a third, shorter meter

    expected = write_csv(path, readings)

    days, meter_days = independent_totals(path)
    assert sum(count for count, _ in days.values()) == expected.readings == readings
    assert expected.meters == 3
    assert expected.meter_days == len(meter_days)
    assert {day: [count, kwh * 1000] for day, (count, kwh) in days.items()} == expected.days


def test_a_many_meters_file_has_its_meters_readings_and_totals(tmp_path: Path) -> None:
    path = tmp_path / "meters.csv"

    expected = write_meters_csv(path, 250, 50)  # a day and two readings of the next

    days, meter_days = independent_totals(path)
    assert len({meter for meter, _ in meter_days}) == expected.meters == 250
    assert expected.readings == 250 * 50 and expected.meter_days == len(meter_days) == 500
    assert {day: [count, kwh * 1000] for day, (count, kwh) in days.items()} == expected.days


def test_the_file_is_the_same_for_the_same_seed(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", 500)
    write_csv(tmp_path / "b.csv", 500)

    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
