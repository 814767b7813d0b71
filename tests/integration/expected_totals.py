"""Daily totals computed straight from the raw files with the csv module and Decimal, independently of gridflow."""

from __future__ import annotations

import csv
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

DayTotals = dict[tuple[str, str], tuple[Decimal, int]]


def _accumulate(rows: list[tuple[str, str, Decimal]]) -> DayTotals:
    sums: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0])
    for meter, day, kwh in rows:
        sums[(meter, day)][0] += kwh
        sums[(meter, day)][1] += 1
    return {key: (value[0], value[1]) for key, value in sums.items()}


def lcl_halfhourly(path: Path) -> DayTotals:
    """LCLid,tstp,energy(kWh/hh): GMT timestamps (interval start), padded values, 'Null' for missing."""
    rows = []
    with path.open(newline="") as handle:
        for record in csv.DictReader(handle):
            value = record["energy(kWh/hh)"].strip()
            if value and value != "Null":
                rows.append((record["LCLid"], record["tstp"][:10], Decimal(value)))
    return _accumulate(rows)


def gentrack_wide(path: Path) -> DayTotals:
    """Meter,Date,0:00..23:30: one row per meter-day, integer kWh per half hour."""
    rows = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for record in reader:
            if record:
                rows.extend((record[0], record[1], Decimal(value)) for value in record[2:] if value.strip())
    return _accumulate(rows)


def by_month(totals: DayTotals) -> dict[tuple[str, str], tuple[Decimal, int, int]]:
    """(meter, YYYY-MM) -> (kWh, readings, days covered)."""
    months: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0, 0])
    for (meter, day), (kwh, count) in totals.items():
        month = months[(meter, day[:7])]
        month[0] += kwh
        month[1] += count
        month[2] += 1
    return {key: (value[0], value[1], value[2]) for key, value in months.items()}
