"""What each real file should load as, computed from the raw file with csv, Decimal and zoneinfo only.

Nothing here imports gridflow: local times are resolved with zoneinfo (the n-th occurrence of a repeated
wall-clock time per meter and channel is the earlier or later instant as the feed says), days are local
days of the interval start, and a day's expected intervals come from the length of that local day.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from statistics import median
from zoneinfo import ZoneInfo

UTC = timezone.utc


@dataclass
class DayFigures:
    kwh: Decimal = Decimal(0)
    readings: int = 0
    anomalies: int = 0
    duplicates: int = 0
    expected: int = 0


@dataclass
class Expected:
    """Per (meter, channel, local day) figures and the rejected rows counted by rule."""

    days: dict[tuple[str, str, str], DayFigures] = field(default_factory=dict)
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def loaded(self) -> int:
        return sum(figures.readings for figures in self.days.values())


@dataclass(frozen=True)
class Record:
    meter: str
    channel: str
    label: datetime  # wall-clock time as written
    kwh: Decimal
    line: int


def intervals_in_local_day(day: date, zone: ZoneInfo, minutes: int) -> int:
    start = datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=zone).astimezone(UTC)
    return int((end - start) / timedelta(minutes=minutes))


def _exists(label: datetime, zone: ZoneInfo) -> bool:
    aware = label.replace(tzinfo=zone)
    return aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == label


def _ambiguous(label: datetime, zone: ZoneInfo) -> bool:
    return label.replace(tzinfo=zone, fold=0).utcoffset() != label.replace(tzinfo=zone, fold=1).utcoffset()


def totals(records: Iterable[Record], zone_name: str, minutes: int, marks_end: bool, first_is_later: bool,
           spike_factor: Decimal | None = None) -> Expected:
    """Resolve, de-duplicate (first line wins) and sum the records as the feed's rules say."""
    zone = ZoneInfo(zone_name)
    expected = Expected()
    occurrences: Counter[tuple[str, str, datetime]] = Counter()
    kept: dict[tuple[str, str, datetime], Decimal] = {}
    placed: list[tuple[Record, datetime, date]] = []
    for record in sorted(records, key=lambda r: r.line):
        if not _exists(record.label, zone):
            expected.rejected["nonexistent_time"] += 1
            continue
        fold = 0
        if _ambiguous(record.label, zone):
            nth = occurrences[(record.meter, record.channel, record.label)]
            occurrences[(record.meter, record.channel, record.label)] += 1
            is_first = nth % 2 == 0
            fold = 1 if is_first == first_is_later else 0
        instant = record.label.replace(tzinfo=zone, fold=fold).astimezone(UTC)
        start = instant - timedelta(minutes=minutes) if marks_end else instant
        day = start.astimezone(zone).date()
        key = (record.meter, record.channel, start)
        figures = expected.days.setdefault((record.meter, record.channel, day.isoformat()), DayFigures())
        if key in kept:
            expected.rejected["duplicate" if kept[key] == record.kwh else "conflicting_duplicate"] += 1
            figures.duplicates += 1
            continue
        kept[key] = record.kwh
        placed.append((record, start, day))
    medians = _medians(placed) if spike_factor is not None else {}
    for record, _, day in placed:
        figures = expected.days[(record.meter, record.channel, day.isoformat())]
        figures.kwh += record.kwh
        figures.readings += 1
        figures.expected = intervals_in_local_day(day, zone, minutes)
        middle = medians.get((record.meter, record.channel), 0.0)
        if spike_factor is not None and middle > 0 and float(record.kwh) > float(spike_factor) * middle:
            figures.anomalies += 1
    return expected


def _medians(placed: list[tuple[Record, datetime, date]]) -> dict[tuple[str, str], float]:
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for record, _, _ in placed:
        values[(record.meter, record.channel)].append(float(record.kwh))
    return {key: median(found) for key, found in values.items()}


def _rows(path: Path) -> Iterable[tuple[int, list[str]]]:
    """(line number, fields) of each data row after the header."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for record in reader:
            if record:
                yield reader.line_num, record


def esb_hdf(path: Path) -> Expected:
    """MPRN,Meter Serial Number,Read Value,Read Type,Read Date and End Time; newest first, Irish local end."""
    channels = {"Active Import Interval (kWh)": "import", "Active Export Interval (kWh)": "export"}
    records = [Record(fields[0], channels[fields[3]], datetime.strptime(fields[4], "%d-%m-%Y %H:%M"),
                      Decimal(fields[2]), line) for line, fields in _rows(path)]
    return totals(records, "Europe/Dublin", 30, marks_end=True, first_is_later=True, spike_factor=Decimal(10))


def n3rgy_hourly(path: Path) -> Expected:
    """local_time,elec_import_kwh,gas_kwh: hourly UK local end times; NA means no value."""
    records, missing = [], 0
    for line, fields in _rows(path):
        label = datetime.strptime(fields[0], "%Y-%m-%d %H:%M:%S")
        for text, channel in ((fields[1], "electricity"), (fields[2], "gas")):
            if text.strip() in ("", "NA"):
                missing += 1
            else:
                records.append(Record("n3rgy_household", channel, label, Decimal(text.strip()), line))
    expected = totals(records, "Europe/London", 60, marks_end=True, first_is_later=False, spike_factor=Decimal(20))
    expected.rejected["missing_value"] += missing
    return expected


def hydro_kw(path: Path) -> Expected:
    """Date_Time,Generator active power (kW),,,,: day-first UK local half-hour starts, kW averaged."""
    records = [Record("sandford_hydro", "generation", datetime.strptime(fields[0], "%d/%m/%y %H:%M"),
                      Decimal(fields[1]) * Decimal("0.5"), line) for line, fields in _rows(path)]
    return totals(records, "Europe/London", 30, marks_end=False, first_is_later=False)


def lcl_daily(path: Path, meter: str) -> Expected:
    """day,energy_sum: one reading a day, US M/D/YYYY dates."""
    records = [Record(meter, "import", datetime.strptime(fields[0], "%m/%d/%Y"), Decimal(fields[1]), line)
               for line, fields in _rows(path)]
    return totals(records, "UTC", 1440, marks_end=False, first_is_later=False)
