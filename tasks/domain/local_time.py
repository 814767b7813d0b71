"""Wall-clock times of a feed's time zone to UTC instants, and the length of its local days.

A local time that does not exist (skipped when clocks go forward) is reported, not guessed. A local time
that exists twice (when clocks go back) is resolved by the order the file gives it: the feed says whether
the first occurrence of a repeated time, per meter and channel, is the earlier instant or the later one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

UTC_NAMES = ("UTC", "Etc/UTC", "GMT", "Etc/GMT")


@dataclass(frozen=True)
class Instants:
    """UTC instants (timestamp[us], no zone) and which local times do not exist in the zone."""

    utc: pa.Array
    nonexistent: pa.Array  # bool


def to_utc(local: pa.Array, zone: str, occurrence_keys: pa.Array, first_is_later: bool) -> Instants:
    """UTC instants of local wall-clock times.

    occurrence_keys: one value per time naming what repeats together (e.g. meter and channel), listed in the
    file's order, so the n-th occurrence of an ambiguous time for a key is known.
    """
    if zone in UTC_NAMES:
        return Instants(utc=local, nonexistent=pa.repeat(pa.scalar(False), len(local)))
    earliest = pc.assume_timezone(local, timezone=zone, ambiguous="earliest", nonexistent="latest")
    latest = pc.assume_timezone(local, timezone=zone, ambiguous="latest", nonexistent="latest")
    nonexistent = pc.fill_null(pc.not_equal(pc.local_timestamp(latest), local), False)
    ambiguous = pc.and_(pc.fill_null(pc.not_equal(earliest, latest), False), pc.invert(nonexistent))
    later = _later_occurrences(local, occurrence_keys, ambiguous, first_is_later)
    chosen = pc.if_else(later, latest, earliest)
    return Instants(utc=pc.cast(chosen, pa.timestamp("us")), nonexistent=nonexistent)


def _later_occurrences(local: pa.Array, keys: pa.Array, ambiguous: pa.Array, first_is_later: bool) -> pa.Array:
    """True where an ambiguous time is the later of its two instants, by its order of occurrence."""
    later = [False] * len(local)
    seen: dict[tuple[object, object], int] = {}
    for index in pc.indices_nonzero(ambiguous).to_pylist():
        key = (keys[index].as_py(), local[index].as_py())
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        is_first = occurrence % 2 == 0
        later[index] = is_first == first_is_later
    return pa.array(later, pa.bool_())


def local_wall_time(utc: pa.Array, zone: str) -> pa.Array:
    """The zone's wall-clock time (timestamp[us], no zone) of UTC instants."""
    if zone in UTC_NAMES:
        return utc
    return pc.local_timestamp(pc.assume_timezone(utc, timezone="UTC").cast(pa.timestamp("us", tz=zone)))


def intervals_in_day(day: date, zone: str, interval_minutes: int) -> int:
    """How many intervals the local day has: 46 or 50 half-hours on a DST day in Europe, else 48."""
    tz = ZoneInfo(zone)
    start = datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(timezone.utc)
    following = day + timedelta(days=1)
    end = datetime(following.year, following.month, following.day, tzinfo=tz).astimezone(timezone.utc)
    return int((end - start) / timedelta(minutes=interval_minutes))


def intervals_per_day(days: pa.Array, zone: str, interval_minutes: int) -> pa.Array:
    """intervals_in_day for each date (date32) of an array, computed once per distinct day."""
    distinct = pc.unique(days)
    counts = pa.array([intervals_in_day(day, zone, interval_minutes) for day in distinct.to_pylist()], pa.int32())
    return pc.take(counts, pc.index_in(days, value_set=distinct))
