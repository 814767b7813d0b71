"""Feed specs: loading the shipped ones, and every way a spec document can be wrong."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tasks.domain.errors import InvalidFeedSpec, InvalidFile, UnknownFeed
from tasks.domain.feed_spec import FeedSpec, feed_names, feeds_dir, load_feed_spec, parse_feed_spec

FEEDS = Path(__file__).resolve().parents[3] / "feeds"
Mutation = Callable[[dict[str, Any]], None]


def document(feed: str) -> dict[str, Any]:
    return json.loads((FEEDS / f"{feed}.json").read_text(encoding="utf-8"))


def mutated(feed: str, mutate: Mutation) -> dict[str, Any]:
    doc = copy.deepcopy(document(feed))
    mutate(doc)
    return doc


@pytest.mark.parametrize("feed", ["lcl_halfhourly", "gentrack_wide"])
def test_shipped_specs_load(feed: str) -> None:
    doc = document(feed)
    spec = load_feed_spec(feed)

    assert spec.name == feed
    assert spec.layout == doc["layout"]
    assert spec.columns == tuple(doc["columns"])
    assert spec.column_count == len(doc["columns"])
    assert spec.meter_column == doc["meter"]["column"]
    assert spec.value_column == doc["value"].get("column")
    assert spec.channel == doc["channel"]["fixed"] and spec.channel_column is None
    assert spec.interval_minutes == doc["interval_minutes"]
    assert spec.missing_values == tuple(doc["missing_values"])
    limits = doc["range"]
    assert (spec.min_kwh, spec.max_kwh) == (Decimal(str(limits["min_kwh"])), Decimal(str(limits["max_kwh"])))
    assert spec.delimiter == doc["csv"]["delimiter"] and spec.header is doc["csv"]["header"]
    assert spec.unit == "kWh" and spec.kwh_factor == 1


def test_shipped_spec_details() -> None:
    lcl, wide = load_feed_spec("lcl_halfhourly"), load_feed_spec("gentrack_wide")
    assert (lcl.timestamp_column, lcl.timestamp_format, lcl.max_kwh) == ("tstp", "%Y-%m-%d %H:%M:%S", Decimal(50))
    assert (wide.date_column, wide.first_interval_column, wide.columns[2], wide.columns[-1]) == (
        "Date", 2, "0:00", "23:30")
    assert wide.column_index("23:30") == 49
    assert feed_names() == ["esb_hdf", "gentrack_wide", "hydro_kw", "lcl_daily", "lcl_halfhourly", "n3rgy_hourly",
                            "solar_weather"]


def test_unknown_feed() -> None:
    with pytest.raises(UnknownFeed) as caught:
        load_feed_spec("no_such_feed")
    assert "unknown feed" in str(caught.value)
    assert "no_such_feed" in str(caught.value)
    assert caught.value.rule == "unknown_feed"
    assert isinstance(caught.value, InvalidFile)


@pytest.mark.parametrize("name", ["", "LCL", "1feed", "_feed", "has-dash", "has space", "lcl_halfhourly.json",
                                  "../feeds/lcl_halfhourly", "feeds/lcl_halfhourly", "a" * 64, "lcl_halfhourly\n"])
def test_invalid_names_are_unknown_feeds(name: str) -> None:
    with pytest.raises(UnknownFeed, match="unknown feed"):
        load_feed_spec(name)


def test_longest_valid_name_is_looked_up(tmp_path: Path) -> None:
    name = "a" * 63
    (tmp_path / f"{name}.json").write_text(json.dumps(document("lcl_halfhourly")))
    assert load_feed_spec(name, tmp_path).name == name


def _set(path: tuple[str, ...], value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _all(*mutations: Mutation) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        for one in mutations:
            one(doc)
    return mutate


def _drop(key: str) -> Mutation:
    return lambda doc: doc.pop(key)


def _drop_interval_column(doc: dict[str, Any]) -> None:
    doc["columns"].remove("23:30")


REJECTED_SPECS = [
    pytest.param("lcl_halfhourly", _set(("colour",), "blue"), "unknown field", id="unknown-field"),
    pytest.param("lcl_halfhourly", _set(("layout",), "diagonal"), "layout", id="bad-layout"),
    pytest.param("lcl_halfhourly", _drop("layout"), "layout", id="missing-layout"),
    pytest.param("lcl_halfhourly", _drop("columns"), "columns", id="missing-columns"),
    pytest.param("lcl_halfhourly", _set(("value", "unit"), "joule"), "unit", id="bad-unit"),
    pytest.param("lcl_halfhourly", _set(("csv", "delimiter"), ";;"), "delimiter", id="bad-delimiter"),
    pytest.param("lcl_halfhourly", _set(("timezone",), "Mars/Olympus_Mons"), "timezone", id="unknown-timezone"),
    pytest.param("lcl_halfhourly", _set(("timestamp", "marks"), "middle"), "marks", id="bad-marks"),
    pytest.param("lcl_halfhourly", _set(("interval_minutes",), 7), "interval_minutes", id="interval-7"),
    pytest.param("lcl_halfhourly", _set(("interval_minutes",), 0), "interval_minutes", id="interval-0"),
    pytest.param("lcl_halfhourly", _set(("interval_minutes",), 2880), "interval_minutes", id="interval-2-days"),
    pytest.param("lcl_halfhourly", _set(("timestamp",), {}), "timestamp.column", id="long-without-timestamp"),
    pytest.param("lcl_halfhourly", _set(("value",), {"unit": "kWh"}), "value.column", id="long-without-value"),
    pytest.param("lcl_halfhourly", _set(("channel",), {"fixed": "import", "column": "LCLid"}), "channel",
                 id="channel-both"),
    pytest.param("lcl_halfhourly", _set(("channel",), {}), "channel", id="channel-neither"),
    pytest.param("lcl_halfhourly", _set(("meter", "column"), "meter"), "'meter' is not in columns",
                 id="meter-column-not-in-columns"),
    pytest.param("lcl_halfhourly", _set(("value", "column"), "kwh"), "'kwh' is not in columns",
                 id="value-column-not-in-columns"),
    pytest.param("lcl_halfhourly", _set(("channel",), {"column": "direction"}), "'direction' is not in columns",
                 id="channel-column-not-in-columns"),
    pytest.param("lcl_halfhourly", _all(_set(("value", "unit"), "kW"), _set(("interval_minutes",), 1)),
                 "power unit", id="kw-1-minute"),
    pytest.param("gentrack_wide", _drop_interval_column, "one column per interval", id="wide-47-columns"),
    pytest.param("gentrack_wide", _set(("interval_minutes",), 60), "one column per interval", id="wide-hourly-48"),
    pytest.param("gentrack_wide", _set(("date",), {}), "date.column", id="wide-without-date"),
    pytest.param("gentrack_wide", _set(("date", "first_interval_column"), 50), "interval columns",
                 id="wide-first-interval-past-end"),
    pytest.param("gentrack_wide", _set(("date", "column"), "Day"), "'Day' is not in columns",
                 id="wide-date-column-not-in-columns"),
    pytest.param("lcl_halfhourly", _all(_set(("value", "unit"), "MW"), _set(("interval_minutes",), 20)),
                 "power unit", id="mw-20-minutes"),
    pytest.param("lcl_halfhourly", _set(("interval_minutes",), "half-hour"), "interval_minutes",
                 id="interval-not-a-number"),
    pytest.param("lcl_halfhourly", _set(("range",), {"min_kwh": "zero"}), "min_kwh", id="range-not-a-number"),
]


@pytest.mark.parametrize(("feed", "mutate", "fragment"), REJECTED_SPECS)
def test_parse_feed_spec_rejects(feed: str, mutate: Mutation, fragment: str) -> None:
    with pytest.raises(InvalidFeedSpec) as caught:
        parse_feed_spec("broken", mutated(feed, mutate))
    assert fragment in str(caught.value)
    assert "broken" in str(caught.value)


@pytest.mark.parametrize(("unit", "interval"), [("kW", 30), ("kW", 15), ("kW", 6), ("MW", 30), ("Wh", 1),
                                                ("MWh", 1440), ("W", 60)])
def test_parse_feed_spec_accepts_units(unit: str, interval: int) -> None:
    mutate = _all(_set(("value", "unit"), unit), _set(("interval_minutes",), interval))
    spec = parse_feed_spec("ok", mutated("lcl_halfhourly", mutate))
    assert (spec.unit, spec.interval_minutes) == (unit, interval)


def test_watts_at_half_hour_intervals_are_accepted() -> None:
    spec = parse_feed_spec("watts", mutated("lcl_halfhourly", _set(("value", "unit"), "W")))
    assert spec.kwh_factor == Decimal("0.0005")


def test_defaults_apply_to_a_minimal_document() -> None:
    spec = parse_feed_spec("minimal", {"layout": "long", "columns": ["m", "t", "v"], "meter": {"column": "m"},
                                       "timestamp": {"column": "t"}, "value": {"column": "v"}})
    assert (spec.delimiter, spec.quote, spec.header, spec.encoding) == (",", '"', True, "utf-8")
    assert (spec.unit, spec.interval_minutes, spec.channel, spec.quality) == ("kWh", 30, "import", "A")
    assert (spec.missing_values, spec.min_kwh, spec.max_kwh) == (("",), None, None)


@pytest.mark.parametrize(("unit", "interval", "factor"), [
    ("Wh", 30, Decimal("0.001")), ("kWh", 30, Decimal(1)), ("MWh", 30, Decimal(1000)), ("MWh", 5, Decimal(1000)),
    ("W", 30, Decimal("0.0005")), ("W", 60, Decimal("0.001")), ("kW", 30, Decimal("0.5")),
    ("kW", 15, Decimal("0.25")), ("kW", 60, Decimal(1)), ("kW", 6, Decimal("0.1")), ("MW", 30, Decimal(500)),
])
def test_kwh_factor(unit: str, interval: int, factor: Decimal) -> None:
    spec = dataclasses.replace(load_feed_spec("lcl_halfhourly"), unit=unit, interval_minutes=interval)
    assert spec.kwh_factor == factor


def write_spec(directory: Path, name: str, doc: dict[str, Any] | str) -> None:
    (directory / f"{name}.json").write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")


def test_feeds_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    write_spec(tmp_path, "my_feed", mutated("lcl_halfhourly", _set(("description",), "from the environment")))
    monkeypatch.setenv("GRIDFLOW_FEEDS_DIR", str(tmp_path))

    assert feeds_dir() == tmp_path
    assert feed_names() == ["my_feed"]
    assert load_feed_spec("my_feed").description == "from the environment"
    with pytest.raises(UnknownFeed, match="declared feeds: my_feed"):
        load_feed_spec("lcl_halfhourly")


def test_feeds_dir_default_is_the_repository_feeds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRIDFLOW_FEEDS_DIR", raising=False)
    assert feeds_dir() == FEEDS


def test_an_explicit_directory_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    env_dir, explicit = tmp_path / "env", tmp_path / "explicit"
    env_dir.mkdir()
    explicit.mkdir()
    write_spec(env_dir, "feed_x", mutated("lcl_halfhourly", _set(("description",), "env")))
    write_spec(explicit, "feed_x", mutated("lcl_halfhourly", _set(("description",), "explicit")))
    monkeypatch.setenv("GRIDFLOW_FEEDS_DIR", str(env_dir))

    assert load_feed_spec("feed_x").description == "env"
    assert load_feed_spec("feed_x", explicit).description == "explicit"


def test_empty_feeds_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GRIDFLOW_FEEDS_DIR", str(tmp_path))
    with pytest.raises(UnknownFeed, match="declared feeds: none"):
        load_feed_spec("lcl_halfhourly")


@pytest.mark.parametrize("text", ["{not json", ""])
def test_a_spec_file_that_is_not_json(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str) -> None:
    write_spec(tmp_path, "bad_json", text)
    monkeypatch.setenv("GRIDFLOW_FEEDS_DIR", str(tmp_path))
    with pytest.raises(InvalidFeedSpec, match="not JSON"):
        load_feed_spec("bad_json")


def test_an_invalid_spec_file_raises_on_load(tmp_path: Path) -> None:
    write_spec(tmp_path, "bad_layout", mutated("lcl_halfhourly", _set(("layout",), "diagonal")))
    with pytest.raises(InvalidFeedSpec, match="layout"):
        load_feed_spec("bad_layout", tmp_path)


def test_spec_is_frozen() -> None:
    spec: FeedSpec = load_feed_spec("lcl_halfhourly")
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.unit = "Wh"  # type: ignore[misc]
