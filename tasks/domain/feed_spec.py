"""Feed specs: one JSON file per feed in feeds/ says how to read its files (see docs/feed-spec.md)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from tasks.domain.errors import InvalidFeedSpec, UnknownFeed
from tasks.domain.file_identity import FEED_NAME

ENERGY_UNITS = {"Wh": Decimal("0.001"), "kWh": Decimal(1), "MWh": Decimal(1000)}
POWER_UNITS = {"W": Decimal("0.001"), "kW": Decimal(1), "MW": Decimal(1000)}
LAYOUTS = ("long", "wide")


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
        return Decimal(str(value))
    except ArithmeticError as error:
        raise InvalidFeedSpec(f"{field} is {value!r}, not a number") from error


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise InvalidFeedSpec(f"{field} is {value!r}, not a whole number") from error


def parse_feed_spec(name: str, document: dict[str, Any]) -> FeedSpec:
    """Build and check a FeedSpec from its JSON document; InvalidFeedSpec names the field that is wrong."""
    known = {"description", "layout", "csv", "columns", "meter", "timestamp", "date", "value", "channel",
             "quality", "interval_minutes", "timezone", "missing_values", "range"}
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
        spec = FeedSpec(
            name=name,
            description=document.get("description", ""),
            layout=document["layout"],
            columns=tuple(document["columns"]),
            header=bool(csv.get("header", True)),
            delimiter=csv.get("delimiter", ","),
            quote=csv.get("quote", '"'),
            encoding=csv.get("encoding", "utf-8"),
            meter_column=document["meter"]["column"],
            timestamp_column=timestamp.get("column"),
            timestamp_format=timestamp.get("format", "%Y-%m-%d %H:%M:%S"),
            timestamp_marks=timestamp.get("marks", "start"),
            date_column=date.get("column"),
            date_format=date.get("format", "%Y-%m-%d"),
            first_interval_column=_int(date.get("first_interval_column", 2), "date.first_interval_column"),
            value_column=value.get("column"),
            unit=value.get("unit", "kWh"),
            channel=channel.get("fixed"),
            channel_column=channel.get("column"),
            quality=document.get("quality", "A"),
            interval_minutes=_int(document.get("interval_minutes", 30), "interval_minutes"),
            timezone=document.get("timezone", "UTC"),
            missing_values=tuple(document.get("missing_values", [""])),
            min_kwh=_decimal(value_range.get("min_kwh"), "range.min_kwh"),
            max_kwh=_decimal(value_range.get("max_kwh"), "range.max_kwh"),
        )
    except (KeyError, TypeError) as error:
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
    if spec.timezone != "UTC":
        problems.append("timezone: only UTC is supported so far (local time zones are issue 5)")
    if spec.timestamp_marks not in ("start", "end"):
        problems.append("timestamp.marks must be start or end")
    if not 0 < spec.interval_minutes <= 1440 or 1440 % spec.interval_minutes:
        problems.append("interval_minutes must divide a day")
    if (spec.channel is None) == (spec.channel_column is None):
        problems.append("channel needs exactly one of fixed or column")
    named = [spec.meter_column, spec.channel_column]
    if spec.layout == "long":
        named += [spec.timestamp_column, spec.value_column]
        if not spec.timestamp_column or not spec.value_column:
            problems.append("a long layout needs timestamp.column and value.column")
    else:
        named += [spec.date_column]
        if not spec.date_column or spec.first_interval_column >= len(spec.columns):
            problems.append("a wide layout needs date.column and interval columns after first_interval_column")
        elif (len(spec.columns) - spec.first_interval_column) * spec.interval_minutes != 1440:
            problems.append("a wide layout needs one column per interval of the day")
    problems += [f"column {column!r} is not in columns" for column in named if column and column not in spec.columns]
    hours = Decimal(spec.interval_minutes) / Decimal(60)
    if spec.unit in POWER_UNITS and hours != hours.quantize(Decimal("0.001")):
        problems.append("a power unit needs an interval whose length in hours has at most 3 decimals")
    if problems:
        raise InvalidFeedSpec(f"feed {spec.name}: " + "; ".join(problems))
