"""Synthetic long-format interval CSV in the lcl_halfhourly shape, with the daily totals it must load to."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TextIO

import numpy as np

HEADER = "LCLid,tstp,energy(kWh/hh)"
FIRST_DAY = datetime(2013, 1, 1)
DAYS_PER_METER = 30
SLOTS_PER_DAY = 48
READINGS_PER_METER = DAYS_PER_METER * SLOTS_PER_DAY


@dataclass
class Expected:
    """What the generated file holds: readings, meters, meter-days, and per day (UTC) readings and milli-kWh."""

    readings: int = 0
    meters: int = 0
    meter_days: int = 0
    days: dict[str, list[int]] = field(default_factory=dict)  # day -> [readings, milli-kWh]

    def add_day(self, day: str, readings: int, milli_kwh: int) -> None:
        totals = self.days.setdefault(day, [0, 0])
        totals[0] += readings
        totals[1] += milli_kwh
        self.meter_days += 1


def _household_shape() -> np.ndarray:
    """Mean kWh of each half hour relative to the meter's base: low at night, morning and evening peaks."""
    hours = np.arange(SLOTS_PER_DAY) / 2
    return 0.6 + 0.5 * np.exp(-((hours - 8) ** 2) / 4) + 0.9 * np.exp(-((hours - 19) ** 2) / 6)


def _stamps() -> list[str]:
    """The interval starts of one meter's readings, as the feed writes them (UTC, %Y-%m-%d %H:%M:%S)."""
    return [f"{FIRST_DAY + timedelta(minutes=30 * step):%Y-%m-%d %H:%M:%S}" for step in range(READINGS_PER_METER)]


def _meter_milli_kwh(rng: np.random.Generator, count: int, shape: np.ndarray) -> np.ndarray:
    """One meter's readings in Wh (milli-kWh), household-shaped with noise."""
    base = rng.uniform(0.12, 0.3)
    noise = rng.uniform(0.7, 1.3, count)
    return np.rint(base * np.resize(shape, count) * noise * 1000).astype(np.int64)


def _write_meter(out: TextIO, expected: Expected, meter_id: str, values: np.ndarray, stamps: list[str],
                 days: list[str]) -> None:
    """One meter's lines (its values in milli-kWh, from the first stamp on) and its days in `expected`."""
    out.write("".join(f"{meter_id},{stamps[i]}, {int(v) // 1000}.{int(v) % 1000:03d} \n" for i, v in enumerate(values)))
    for index, start in enumerate(range(0, len(values), SLOTS_PER_DAY)):
        day_values = values[start:start + SLOTS_PER_DAY]
        expected.add_day(days[index], len(day_values), int(day_values.sum()))


def write_csv(path: Path, readings: int, seed: int = 20130101) -> Expected:
    """Write `readings` half-hourly readings of ceil(readings / 1440) meters (30 days each, the last one shorter)."""
    rng = np.random.default_rng(seed)
    shape = _household_shape()
    stamps = _stamps()
    days = [stamp[:10] for stamp in stamps[::SLOTS_PER_DAY]]
    expected = Expected(readings=readings, meters=math.ceil(readings / READINGS_PER_METER))
    with path.open("w", newline="\n") as out:
        out.write(HEADER + "\n")
        for meter in range(expected.meters):
            count = min(READINGS_PER_METER, readings - meter * READINGS_PER_METER)
            _write_meter(out, expected, f"MAC{meter + 1:06d}", _meter_milli_kwh(rng, count, shape), stamps, days)
    return expected


def write_meters_csv(path: Path, meters: int, readings_per_meter: int, seed: int = 20130101) -> Expected:
    """Write `readings_per_meter` half-hourly readings (from midnight of the first day) of each of `meters` meters,
    sorted by meter: the shape of a backfill of many meters, where meter-days, not readings, are the load."""
    rng = np.random.default_rng(seed)
    shape = _household_shape()
    stamps = _stamps()[:readings_per_meter]
    days = [stamp[:10] for stamp in stamps[::SLOTS_PER_DAY]]
    expected = Expected(readings=meters * readings_per_meter, meters=meters)
    with path.open("w", newline="\n") as out:
        out.write(HEADER + "\n")
        for meter in range(meters):
            _write_meter(out, expected, f"MAC{meter + 1:07d}", _meter_milli_kwh(rng, readings_per_meter, shape),
                         stamps, days)
    return expected
