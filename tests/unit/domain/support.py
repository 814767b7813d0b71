"""Helpers shared by the domain tests: block splitting, real files, and independent reference readers.

The reference readers use only the csv module, datetime and decimal.Decimal, never the code under test,
so the expected values the tests compare against are computed independently of gridflow.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache

import pyarrow as pa

from tests.real_data import real_file

LCL_FILES = ("lcl_halfhourly/MAC000002.csv", "lcl_halfhourly/MAC000016.csv", "lcl_halfhourly/MAC000079.csv")
WIDE_FILES = ("gentrack_seed/small-consumption.csv", "gentrack_seed/consumption.csv")
SMALL_FILES = ("lcl_halfhourly/MAC000016.csv", *WIDE_FILES)
FEED_OF = {**{name: "lcl_halfhourly" for name in LCL_FILES}, **{name: "gentrack_wide" for name in WIDE_FILES}}

LCL_HEADER = "LCLid,tstp,energy(kWh/hh)"
LCL_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
WIDE_DATE_FORMAT = "%Y-%m-%d"
HALF_HOUR = timedelta(minutes=30)
INGESTED_AT = datetime(2024, 5, 6, 7, 8, 9)
FILE_ID = "0123456789abcdef01234567"

MeterDay = tuple[str, str]  # (meter, ISO day)


@dataclass(frozen=True)
class RefReading:
    line: int
    meter: str
    start: datetime
    kwh: Decimal


@cache
def real_bytes(relative: str) -> bytes:
    """The bytes of a real data file, read in place (skips when it is not there)."""
    return real_file(relative).read_bytes()


def blocks(data: bytes, size: int) -> Iterator[bytes]:
    """data cut into blocks of `size` bytes, as a stream from S3 would deliver it."""
    return (data[i:i + size] for i in range(0, len(data), size))


def header_length(data: bytes) -> int:
    """Bytes up to and including the first newline."""
    return data.index(b"\n") + 1


def line_count(data: bytes) -> int:
    """Physical lines in data; a last line without its newline still counts."""
    return data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)


def non_blank_lines(data: bytes) -> int:
    return sum(1 for line in data.split(b"\n") if line.strip())


def _rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    """(1-based line number, fields) of every non-blank data row after the header."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    next(reader)
    for fields in reader:
        if any(field.strip() for field in fields):
            yield reader.line_num, [field.strip() for field in fields]


@cache
def reference_readings(data: bytes, layout: str) -> tuple[RefReading, ...]:
    """Every reading of a file that holds only good rows, read with csv + Decimal (cached: strptime is slow)."""
    readings: list[RefReading] = []
    for line, fields in _rows(data):
        if layout == "long":
            meter, stamp, value = fields
            readings.append(RefReading(line, meter, datetime.strptime(stamp, LCL_TIME_FORMAT), Decimal(value)))
        else:
            meter, day = fields[:2]
            midnight = datetime.strptime(day, WIDE_DATE_FORMAT)
            readings += [RefReading(line, meter, midnight + k * HALF_HOUR, Decimal(value))
                         for k, value in enumerate(fields[2:])]
    return tuple(readings)


def reference_daily_totals(readings: Iterable[RefReading]) -> dict[MeterDay, tuple[Decimal, int]]:
    """(kWh, readings) per meter and UTC day."""
    kwh: dict[MeterDay, Decimal] = defaultdict(Decimal)
    count: dict[MeterDay, int] = defaultdict(int)
    for reading in readings:
        key = (reading.meter, reading.start.date().isoformat())
        kwh[key] += reading.kwh
        count[key] += 1
    return {key: (kwh[key], count[key]) for key in kwh}


def meter_day_totals(table: pa.Table, channel: str = "import") -> dict[MeterDay, tuple[Decimal, int]]:
    """A METER_DAY_SCHEMA table as {(meter, day): (kwh, readings)}, checking its channel on the way."""
    out = {}
    for row in table.to_pylist():
        assert row["channel"] == channel
        assert isinstance(row["kwh"], Decimal)
        out[(row["meter_id"], row["day"])] = (row["kwh"], row["readings"])
    return out


def reading_tuples(table: pa.Table) -> list[tuple[int, str, datetime, Decimal]]:
    """(source_line, meter, interval_start, kwh) of a parsed readings table."""
    return list(zip(table["source_line"].to_pylist(), table["meter_id"].to_pylist(),
                    table["interval_start"].to_pylist(), table["kwh"].to_pylist(), strict=True))


def ref_tuples(readings: Iterable[RefReading]) -> list[tuple[int, str, datetime, Decimal]]:
    return [(r.line, r.meter, r.start, r.kwh) for r in readings]


def day(iso: str) -> date:
    return date.fromisoformat(iso)
