"""Feed specs: one JSON file per feed in feeds/ says how to read its files (see docs/feed-spec.md)."""

from __future__ import annotations

import codecs
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tasks.domain.errors import InvalidFeedSpec, UnknownFeed
from tasks.domain.file_identity import FEED_NAME

ENERGY_UNITS = {"Wh": Decimal("0.001"), "kWh": Decimal(1), "MWh": Decimal(1000)}
POWER_UNITS = {"W": Decimal("0.001"), "kW": Decimal(1), "MW": Decimal(1000)}
LAYOUTS = ("long", "wide")
REPEATED_LOCAL_TIME = ("first_is_earlier", "first_is_later")
ACTIONS = ("reject", "flag")
UNNAMED = "_unnamed_{}"


@dataclass(frozen=True)
class QualityChecks:
    """Which data-quality rules reject a reading and which only flag it (docs/feed-spec.md, "checks")."""

    negative: str = "reject"  # reject, flag or allow
    negative_channels_allowed: tuple[str, ...] = ()
    out_of_range: str = "reject"
    off_grid: str = "reject"
    spike_factor: Decimal | None = None  # flag a reading above this multiple of its meter's median
    min_coverage: Decimal = Decimal("0.9")  # a meter-day below this share of its intervals is incomplete


@dataclass(frozen=True)
class FeedSpec:
    """How to read one feed's files; every field has a default except the columns and the layout."""

    name: str
    layout: str
    meter_column: str
    value_column: str | None
    timestamp_column: str | None
    timestamp_format: str
    date_column: str | None
    date_format: str
    first_interval_column: int
    columns: tuple[str, ...]
    header: bool
    delimiter: str
    quote: str | None
    encoding: str
    timezone: str
    timestamp_marks: str
    interval_minutes: int
    unit: str
    channel: str | None
    channel_column: str | None
    quality: str
    missing_values: tuple[str, ...]
    min_kwh: Decimal | None
    max_kwh: Decimal | None
    description: str = ""
    meter_fixed: str | None = None
    meter_from_file_name: str | None = None
    value_channels: tuple[tuple[str, str], ...] = ()  # long layout with one value column per channel
    channel_map: tuple[tuple[str, str], ...] = ()
    repeated_local_time: str = "first_is_earlier"
    checks: QualityChecks = field(default_factory=QualityChecks)

    @property
    def kwh_factor(self) -> Decimal:
        """Multiply a value in the feed's unit by this to get kWh (power units use the interval length)."""
        if self.unit in ENERGY_UNITS:
            return ENERGY_UNITS[self.unit]
        return POWER_UNITS[self.unit] * Decimal(self.interval_minutes) / Decimal(60)

    @property
    def column_count(self) -> int:
        return len(self.columns)

    def column_index(self, name: str) -> int:
        return self.columns.index(name)

    @property
    def field_names(self) -> tuple[str, ...]:
        """The columns as unique field names: an unnamed column (an empty header field) gets a placeholder."""
        return tuple(name or UNNAMED.format(position) for position, name in enumerate(self.columns))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def meter_for_file(self, file_name: str) -> str | None:
        """The meter id a file without a meter column belongs to (fixed, or found in its name)."""
        if self.meter_fixed is not None:
            return self.meter_fixed
        if self.meter_from_file_name is None:
            return None
        found = re.search(self.meter_from_file_name, file_name)
        if not found:
            return None
        return found.group(1) if found.groups() else found.group(0)


def feeds_dir() -> Path:
    """feeds/ beside tasks/ (also inside the Lambda bundle), or GRIDFLOW_FEEDS_DIR."""
    configured = os.environ.get("GRIDFLOW_FEEDS_DIR")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "feeds"


def feed_names(directory: Path | None = None) -> list[str]:
    return sorted(path.stem for path in (directory or feeds_dir()).glob("*.json"))


def load_feed_spec(name: str, directory: Path | None = None) -> FeedSpec:
    """The spec of a declared feed; UnknownFeed if there is none."""
    if not FEED_NAME.fullmatch(name):
        raise UnknownFeed(f"{name!r} is not a feed name")
    return _load(name, str(directory or feeds_dir()))


@lru_cache(maxsize=64)
def _load(name: str, directory: str) -> FeedSpec:
    path = Path(directory) / f"{name}.json"
    if not path.is_file():
        raise UnknownFeed(f"{name!r} (declared feeds: {', '.join(feed_names(Path(directory))) or 'none'})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise InvalidFeedSpec(f"{path}: not JSON: {error}") from error
    return parse_feed_spec(name, document)


def _decimal(value: Any, field: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError as error:
        raise InvalidFeedSpec(f"{field} is {value!r}, not a number") from error
    if not number.is_finite() or isinstance(value, bool):
        raise InvalidFeedSpec(f"{field} is {value!r}, not a number")
    return number


def _int(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InvalidFeedSpec(f"{field} is {value!r}, not a whole number")
    try:
        return int(value)
    except ValueError as error:
        raise InvalidFeedSpec(f"{field} is {value!r}, not a whole number") from error


def _bool(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidFeedSpec(f"{field} is {value!r}, not true or false")
    return value


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InvalidFeedSpec(f"{field} is {value!r}, not a list of strings")
    return tuple(value)


def _column(reference: Any, columns: list[str], field: str) -> str | None:
    """A column named, or given by its 0-based position in columns."""
    if reference is None or isinstance(reference, str):
        return reference
    if isinstance(reference, int) and not isinstance(reference, bool) and 0 <= reference < len(columns):
        return columns[reference]
    raise InvalidFeedSpec(f"{field} is {reference!r}: neither a column name nor a position in columns")


def _checks(document: dict[str, Any]) -> QualityChecks:
    known = {"negative", "negative_channels_allowed", "out_of_range", "off_grid", "spike_factor", "min_coverage"}
    unknown = set(document) - known
    if unknown:
        raise InvalidFeedSpec(f"unknown checks field(s) {sorted(unknown)}")
    defaults = QualityChecks()
    spike = _decimal(document.get("spike_factor"), "checks.spike_factor")
    coverage = _decimal(document.get("min_coverage", defaults.min_coverage), "checks.min_coverage")
    return QualityChecks(
        negative=document.get("negative", defaults.negative),
        negative_channels_allowed=_strings(document.get("negative_channels_allowed", []),
                                           "checks.negative_channels_allowed"),
        out_of_range=document.get("out_of_range", defaults.out_of_range),
        off_grid=document.get("off_grid", defaults.off_grid),
        spike_factor=spike, min_coverage=coverage if coverage is not None else defaults.min_coverage)


def parse_feed_spec(name: str, document: dict[str, Any]) -> FeedSpec:
    """Build and check a FeedSpec from its JSON document; InvalidFeedSpec names the field that is wrong."""
    known = {"description", "layout", "csv", "columns", "meter", "timestamp", "date", "value", "channel",
             "quality", "interval_minutes", "timezone", "missing_values", "range", "checks"}
    unknown = set(document) - known
    if unknown:
        raise InvalidFeedSpec(f"feed {name}: unknown field(s) {sorted(unknown)}")
    csv = document.get("csv", {})
    timestamp = document.get("timestamp", {})
    date = document.get("date", {})
    value = document.get("value", {})
    channel = document.get("channel", {"fixed": "import"})
    value_range = document.get("range", {})
    try:
        columns = list(document["columns"])
        meter = document["meter"]
        value_columns = value.get("columns", {})
        spec = FeedSpec(
            name=name,
            description=document.get("description", ""),
            layout=document["layout"],
            columns=tuple(columns),
            header=_bool(csv.get("header", True), "csv.header"),
            delimiter=csv.get("delimiter", ","),
            quote=csv.get("quote", '"'),
            encoding=csv.get("encoding", "utf-8"),
            meter_column=_column(meter.get("column"), columns, "meter.column"),
            meter_fixed=meter.get("fixed"),
            meter_from_file_name=meter.get("from_file_name"),
            timestamp_column=_column(timestamp.get("column"), columns, "timestamp.column"),
            timestamp_format=timestamp.get("format", "%Y-%m-%d %H:%M:%S"),
            timestamp_marks=timestamp.get("marks", "start"),
            repeated_local_time=timestamp.get("repeated_local_time", "first_is_earlier"),
            date_column=_column(date.get("column"), columns, "date.column"),
            date_format=date.get("format", "%Y-%m-%d"),
            first_interval_column=_int(date.get("first_interval_column", 2), "date.first_interval_column"),
            value_column=_column(value.get("column"), columns, "value.column"),
            value_channels=tuple((str(column), str(channel_name)) for column, channel_name in value_columns.items()),
            unit=value.get("unit", "kWh"),
            channel=None if value_columns else channel.get("fixed"),
            channel_column=_column(channel.get("column"), columns, "channel.column"),
            channel_map=tuple(sorted(channel.get("map", {}).items())),
            quality=document.get("quality", "A"),
            interval_minutes=_int(document.get("interval_minutes", 30), "interval_minutes"),
            timezone=document.get("timezone", "UTC"),
            missing_values=_strings(document.get("missing_values", [""]), "missing_values"),
            min_kwh=_decimal(value_range.get("min_kwh"), "range.min_kwh"),
            max_kwh=_decimal(value_range.get("max_kwh"), "range.max_kwh"),
            checks=_checks(document.get("checks", {})),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise InvalidFeedSpec(f"feed {name}: missing or malformed field {error}") from error
    except InvalidFeedSpec as error:
        raise InvalidFeedSpec(f"feed {name}: {error}") from error
    _check(spec)
    return spec


def _check(spec: FeedSpec) -> None:
    problems = []
    if spec.layout not in LAYOUTS:
        problems.append(f"layout must be one of {LAYOUTS}")
    if spec.unit not in ENERGY_UNITS and spec.unit not in POWER_UNITS:
        problems.append(f"unit {spec.unit!r} is not one of {sorted(ENERGY_UNITS) + sorted(POWER_UNITS)}")
    if len(spec.delimiter) != 1:
        problems.append("csv.delimiter must be one character")
    if spec.quote is not None and len(spec.quote) != 1:
        problems.append("csv.quote must be null or one character")
    if spec.quote == spec.delimiter:
        problems.append("csv.delimiter must differ from csv.quote")
    try:
        codecs.lookup(spec.encoding)
    except LookupError:
        problems.append(f"csv.encoding {spec.encoding!r} is not a known text encoding")
    if spec.min_kwh is not None and spec.max_kwh is not None and spec.min_kwh > spec.max_kwh:
        problems.append("range.min_kwh is above range.max_kwh")
    problems += _zone_problems(spec.timezone)
    if spec.timestamp_marks not in ("start", "end"):
        problems.append("timestamp.marks must be start or end")
    if spec.repeated_local_time not in REPEATED_LOCAL_TIME:
        problems.append(f"timestamp.repeated_local_time must be one of {REPEATED_LOCAL_TIME}")
    if not 0 < spec.interval_minutes <= 1440 or 1440 % spec.interval_minutes:
        problems.append("interval_minutes must divide a day")
    problems += _source_problems(spec) + _check_problems(spec.checks)
    named = [spec.meter_column, spec.channel_column]
    if spec.layout == "long":
        named += [spec.timestamp_column, spec.value_column, *(column for column, _ in spec.value_channels)]
        if not spec.timestamp_column or (not spec.value_column) == (not spec.value_channels):
            problems.append("a long layout needs timestamp.column and exactly one of value.column or value.columns")
    else:
        named += [spec.date_column]
        if not spec.date_column or spec.first_interval_column >= len(spec.columns):
            problems.append("a wide layout needs date.column and interval columns after first_interval_column")
        elif (len(spec.columns) - spec.first_interval_column) * spec.interval_minutes != 1440:
            problems.append("a wide layout needs one column per interval of the day")
    problems += [f"column {column!r} is not in columns" for column in named if column and column not in spec.columns]
    if len(set(spec.field_names)) != len(spec.field_names):
        problems.append("columns must have unique names")
    hours = Decimal(spec.interval_minutes) / Decimal(60)
    if spec.unit in POWER_UNITS and hours != hours.quantize(Decimal("0.001")):
        problems.append("a power unit needs an interval whose length in hours has at most 3 decimals")
    if problems:
        raise InvalidFeedSpec(f"feed {spec.name}: " + "; ".join(problems))


def _zone_problems(name: str) -> list[str]:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return [f"timezone {name!r} is not an IANA time zone name (e.g. Europe/Dublin, UTC)"]
    return []


def _source_problems(spec: FeedSpec) -> list[str]:
    """Where the meter and channel come from: exactly one source each."""
    problems = []
    meter_sources = [spec.meter_column, spec.meter_fixed, spec.meter_from_file_name]
    if sum(source is not None for source in meter_sources) != 1:
        problems.append("meter needs exactly one of column, fixed or from_file_name")
    if spec.meter_from_file_name is not None:
        try:
            re.compile(spec.meter_from_file_name)
        except re.error as error:
            problems.append(f"meter.from_file_name is not a regular expression: {error}")
    channel_sources = [spec.channel, spec.channel_column, spec.value_channels or None]
    if sum(source is not None for source in channel_sources) != 1:
        problems.append("channel needs exactly one of channel.fixed, channel.column or value.columns")
    if spec.channel_map and spec.channel_column is None:
        problems.append("channel.map needs channel.column")
    return problems


def _check_problems(checks: QualityChecks) -> list[str]:
    problems = []
    if checks.negative not in (*ACTIONS, "allow"):
        problems.append("checks.negative must be reject, flag or allow")
    problems += [f"checks.{name} must be reject or flag" for name, action in
                 (("out_of_range", checks.out_of_range), ("off_grid", checks.off_grid)) if action not in ACTIONS]
    if checks.spike_factor is not None and checks.spike_factor <= 1:
        problems.append("checks.spike_factor must be above 1")
    if not 0 <= checks.min_coverage <= 1:
        problems.append("checks.min_coverage must be between 0 and 1")
    return problems
