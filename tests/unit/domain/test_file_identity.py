"""A file's identity (feed from its key, id from its content) and the lake's key layout."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from tasks.domain import lake_layout
from tasks.domain.errors import InvalidFile, UnknownFeed
from tasks.domain.file_identity import (
    MAX_NAME_BYTES,
    S3_MAX_KEY_BYTES,
    UNNAMED,
    check_name,
    feed_from_key,
    file_id_for,
    name_problem,
    safe_name,
)

REPO = Path(__file__).resolve().parents[3]
ETAG = "9b2cf535f27731c974343645a3985328"
FILE_ID = "0123456789abcdef01234567"
HEX_24 = re.compile(r"[0-9a-f]{24}")


def test_file_id_is_24_hex_digits_and_repeatable() -> None:
    first = file_id_for("lcl_halfhourly", ETAG, 664286)
    assert HEX_24.fullmatch(first)
    assert file_id_for("lcl_halfhourly", ETAG, 664286) == first


def test_file_id_is_the_same_in_another_process() -> None:
    """Reruns happen in other Lambda invocations: the id must not depend on hash seeds or process state."""
    code = ("from tasks.domain.file_identity import file_id_for; "
            f"print(file_id_for('lcl_halfhourly', '{ETAG}', 664286))")
    ids = {subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                          env={"PYTHONHASHSEED": seed}).stdout.strip() for seed in ("1", "2")}
    assert ids == {file_id_for("lcl_halfhourly", ETAG, 664286)}


def test_file_id_ignores_etag_quotes() -> None:
    assert file_id_for("lcl_halfhourly", f'"{ETAG}"', 10) == file_id_for("lcl_halfhourly", ETAG, 10)


@pytest.mark.parametrize(("feed", "etag", "size"), [
    ("gentrack_wide", ETAG, 664286),
    ("lcl_halfhourly", ETAG, 664287),
    ("lcl_halfhourly", ETAG.replace("9b", "9c"), 664286),
    ("lcl_halfhourly", f"{ETAG}-2", 664286),
])
def test_file_id_differs_by_feed_etag_and_size(feed: str, etag: str, size: int) -> None:
    assert file_id_for(feed, etag, size) != file_id_for("lcl_halfhourly", ETAG, 664286)


@pytest.mark.parametrize(("key", "feed", "name"), [
    ("inbound/lcl_halfhourly/MAC000002.csv", "lcl_halfhourly", "MAC000002.csv"),
    ("inbound/gentrack_wide/2019/01/small-consumption.csv", "gentrack_wide", "2019/01/small-consumption.csv"),
    ("inbound/f9/a b.csv", "f9", "a b.csv"),
    ("raw/lcl_halfhourly/year=2024/month=03/MAC000002.csv", "lcl_halfhourly", "MAC000002.csv"),
])
def test_feed_from_key(key: str, feed: str, name: str) -> None:
    assert feed_from_key(key) == (feed, name)


@pytest.mark.parametrize("key", [
    "other/x.csv",
    "inbound/BadName/x.csv",
    "inbound/x.csv",
    "inbound/lcl_halfhourly/",
    "inbound//x.csv",
    "inbound/has-dash/x.csv",
    "inbound/9feed/x.csv",
    "Inbound/lcl_halfhourly/x.csv",
    "raw/lcl_halfhourly/x.csv",
    "raw/lcl_halfhourly/year=24/month=3/x.csv",
    "/inbound/lcl_halfhourly/x.csv",
    pytest.param("inbound/lcl_halfhourly\n/x.csv"),
])
def test_feed_from_key_rejects_keys_outside_a_feed(key: str) -> None:
    with pytest.raises(UnknownFeed, match="unknown feed"):
        feed_from_key(key)


@pytest.mark.parametrize("name", ["MAC000002.csv", "sub/dir/x.csv"])
def test_archived_key_maps_back_to_feed_and_name(name: str) -> None:
    key = lake_layout.archive_key("lcl_halfhourly", datetime(2024, 3, 5, 23, 59), name)
    assert key == f"raw/lcl_halfhourly/year=2024/month=03/{name}"
    assert feed_from_key(key) == ("lcl_halfhourly", name)


def test_curated_key() -> None:
    key = lake_layout.curated_key("lcl_halfhourly", "2013-01-01", FILE_ID, 3)
    assert key == f"curated/readings/feed=lcl_halfhourly/reading_date=2013-01-01/{FILE_ID}-00003.parquet"
    assert re.fullmatch(r"curated/readings/feed=(?P<f>[a-z0-9_]+)/reading_date=(?P<d>\d{4}-\d{2}-\d{2})/"
                        r"(?P<id>[0-9a-f]{24})-(?P<chunk>\d{5})\.parquet", key)
    assert key.startswith(lake_layout.curated_prefix("lcl_halfhourly", "2013-01-01"))
    assert lake_layout.curated_prefix("lcl_halfhourly") == "curated/readings/feed=lcl_halfhourly/"


@pytest.mark.parametrize(("make", "args", "expected"), [
    (lake_layout.curated_key, ("f", "2013-01-01", FILE_ID, 12345),
     f"curated/readings/feed=f/reading_date=2013-01-01/{FILE_ID}-12345.parquet"),
    (lake_layout.rejected_key, ("f", FILE_ID, 7), f"rejected/f/{FILE_ID}/chunk-00007.csv"),
    (lake_layout.work_prefix, (FILE_ID,), f"work/{FILE_ID}/"),
    (lake_layout.chunk_plan_key, (FILE_ID,), f"work/{FILE_ID}/chunk-plan.json"),
    (lake_layout.partial_totals_key, (FILE_ID, 0), f"work/{FILE_ID}/partials/chunk-00000.parquet"),
    (lake_layout.chunk_outputs_key, (FILE_ID, 42), f"work/{FILE_ID}/outputs/chunk-00042.json"),
    (lake_layout.quarantine_key, ("f", FILE_ID, "bad.csv"), f"quarantine/f/{FILE_ID}/bad.csv"),
])
def test_lake_keys(make: Callable[..., str], args: tuple[object, ...], expected: str) -> None:
    assert make(*args) == expected


def test_keys_are_deterministic_and_distinct_per_chunk() -> None:
    keys = [lake_layout.curated_key("f", "2013-01-01", FILE_ID, index) for index in (0, 1, 0)]
    assert keys[0] == keys[2] != keys[1]
    assert lake_layout.partial_totals_key(FILE_ID, 1).startswith(lake_layout.partial_totals_prefix(FILE_ID))
    assert lake_layout.chunk_outputs_key(FILE_ID, 1).startswith(lake_layout.chunk_outputs_prefix(FILE_ID))
    assert lake_layout.partial_totals_prefix(FILE_ID).startswith(lake_layout.work_prefix(FILE_ID))


@pytest.mark.parametrize("name", ["MAC000002.csv", "a b (1).csv", "Zähler – ☃.csv", "2019/01/x.csv", "a..b.csv",
                                  ".hidden.csv", "x" * MAX_NAME_BYTES])
def test_ordinary_names_are_kept_as_they_are(name: str) -> None:
    assert name_problem(name) is None
    assert safe_name(name) == name
    check_name(name)


@pytest.mark.parametrize(("name", "fragment", "filed_as"), [
    ("../../curated/x.csv", "'..'", "x.csv"),
    ("a/./b.csv", "'.'", "b.csv"),
    ("a//b.csv", "empty", "b.csv"),
    ("sub/", "empty", UNNAMED),
    ("..", "'..'", UNNAMED),
    ("..\\..\\evil.csv", "'..'", "evil.csv"),
    ("x\n.csv", "control character", "x_.csv"),
    ("tab\t.csv", "control character", "tab_.csv"),
    ("\udcff.csv", "not valid Unicode", "?.csv"),
])
def test_unsafe_names_are_refused_and_filed_under_a_safe_last_segment(name: str, fragment: str,
                                                                      filed_as: str) -> None:
    with pytest.raises(InvalidFile) as caught:
        check_name(name)
    assert caught.value.rule == "bad_key" and fragment in caught.value.reason
    assert safe_name(name) == filed_as
    assert name_problem(safe_name(name)) is None


def test_a_name_too_long_for_gridflows_own_keys_is_refused_and_shortened() -> None:
    name = "é" * MAX_NAME_BYTES  # two bytes each
    assert "bytes long" in (name_problem(name) or "")
    filed = safe_name(name)
    assert len(filed.encode()) <= MAX_NAME_BYTES and filed == "é" * (MAX_NAME_BYTES // 2)


def test_names_of_the_longest_length_fit_every_key_gridflow_files_them_under() -> None:
    feed, name = "f" * 63, "n" * MAX_NAME_BYTES
    archived = lake_layout.archive_key(feed, datetime(2024, 12, 1), f"{FILE_ID}/{name}")
    quarantined = lake_layout.quarantine_key(feed, FILE_ID, name)
    assert max(len(archived.encode()), len(quarantined.encode())) == S3_MAX_KEY_BYTES


@pytest.mark.parametrize("key", ["inbound/lcl_halfhourly/x.csv\n", "inbound/lcl_halfhourly/\nx.csv"])
def test_a_line_break_in_a_key_is_part_of_the_name(key: str) -> None:
    feed, name = feed_from_key(key)
    assert feed == "lcl_halfhourly" and "\n" in name and name_problem(name)
