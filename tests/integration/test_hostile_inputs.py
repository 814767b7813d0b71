"""Hostile and broken input, end to end: each file goes in through S3 PutObject on the deployed stack.

A file that cannot be trusted must end QUARANTINED with its rule in the audit and in the quarantined object's
metadata, under quarantine/<feed>/<file_id>/, with nothing of it loaded: no curated Parquet, no rejected rows, no
daily totals. The inputs that are merely unusual (CRLF/LF mixtures, spaces and unicode in keys, gzip) must load.
The catalogue and what a user sees for each entry are in docs/hostile-input.md.
"""

from __future__ import annotations

import gzip
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from gridflow.executions import Tracked, wait_for
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tasks.adapters.settings import DEFAULT_MAX_FILE_BYTES
from tasks.domain.decompression import decompressed_key
from tasks.domain.errors import UnknownFeed
from tasks.domain.feed_spec import load_feed_spec
from tasks.domain.file_identity import feed_from_key, file_id_for
from tasks.steps.register_file import UNKNOWN_FEED

pytestmark = pytest.mark.e2e

LCL = "lcl_halfhourly"
WIDE = "gentrack_wide"  # the loading cases use this feed with meters of their own, so other tests' totals hold
LCL_HEADER = b"LCLid,tstp,energy(kWh/hh)\n"
CLOCK_SKEW = timedelta(seconds=5)
MIB = 1 << 20
BOMB_BYTES = 256 * MIB


def lcl_rows(meter: str, count: int) -> bytes:
    start = datetime(2031, 1, 1)
    return b"".join(f"{meter},{start + timedelta(minutes=30 * k):%Y-%m-%d %H:%M:%S},0.{k % 10}\n".encode()
                    for k in range(count))


def wide_file(meter: str, days: int, line_ends: tuple[bytes, ...] = (b"\n",)) -> bytes:
    """A gentrack_wide file of `days` meter-days, its lines ending in turn with each of line_ends."""
    columns = load_feed_spec(WIDE).columns
    lines = [",".join(columns).encode()]
    for day in range(days):
        values = ",".join(str((day + k) % 7) for k in range(len(columns) - 2))
        lines.append(f"{meter},{datetime(2031, 3, 1) + timedelta(days=day):%Y-%m-%d},{values}".encode())
    return b"".join(line + line_ends[n % len(line_ends)] for n, line in enumerate(lines))


def gzip_bomb() -> bytes:
    """0.8 MB of gzip members that expand to BOMB_BYTES of valid-looking rows (one member repeated, as `cat` would)."""
    row = lcl_rows("BOMB00001", 1)
    member = gzip.compress(row * (MIB // len(row)), mtime=0)
    return gzip.compress(LCL_HEADER, mtime=0) + member * (BOMB_BYTES // MIB)


def _two_members(data: bytes) -> bytes:
    """data as two gzip members, cut mid-line (as `cat a.gz b.gz` makes them)."""
    cut = len(data) // 2
    return gzip.compress(data[:cut], mtime=0) + gzip.compress(data[cut:], mtime=0)


@dataclass(frozen=True)
class Drop:
    """One hostile upload: where it goes, its bytes, and the rule that must quarantine it (None: it loads)."""

    case: str
    key: str
    make: Callable[[], bytes]  # the body, made when the catalogue is dropped (one of them is 200 MB)
    rule: str | None
    rows: int = 0

    @property
    def feed(self) -> str:
        try:
            return feed_from_key(self.key)[0]
        except UnknownFeed:
            return UNKNOWN_FEED


def _merge_conflict() -> bytes:
    return (LCL_HEADER + b"<<<<<<< HEAD\n" + lcl_rows("MERGE0001", 2) + b"=======\n" + lcl_rows("MERGE0002", 2)
            + b">>>>>>> theirs\n")


def _mixed_encodings() -> bytes:
    return (LCL_HEADER + "MÜX000001,2031-01-02 00:00:00,0.5\n".encode()
            + "MÜX000002,2031-01-02 00:00:00,0.5\n".encode("latin-1"))


def _valid_lcl(meter: str) -> Callable[[], bytes]:
    return lambda: LCL_HEADER + lcl_rows(meter, 3)


CATALOGUE = [
    Drop("empty", f"inbound/{LCL}/empty.csv", lambda: b"", "empty"),
    Drop("header_only", f"inbound/{LCL}/header-only.csv", lambda: LCL_HEADER, "no_data"),
    Drop("binary_garbage", f"inbound/{LCL}/garbage.csv", lambda: random.Random(3).randbytes(1 << 16), "binary"),
    Drop("gz_that_is_not_gzip", f"inbound/{LCL}/plain.csv.gz", _valid_lcl("NOTGZ0001"), "not_gzip"),
    Drop("truncated_gzip", f"inbound/{LCL}/cut.csv.gz",
         lambda: gzip.compress(LCL_HEADER + lcl_rows("CUTGZ0001", 300), mtime=0)[:-40], "bad_gzip"),
    Drop("gzip_bomb", f"inbound/{LCL}/bomb.csv.gz", gzip_bomb, "decompressed_too_large"),
    Drop("wrong_delimiter", f"inbound/{LCL}/semicolons.csv",
         lambda: _valid_lcl("DELIM0001")().replace(b",", b";"), "header_mismatch"),
    Drop("unterminated_quote", f"inbound/{LCL}/quote.csv",
         lambda: LCL_HEADER + b'QUOTE0001,"2031-01-01 00:00:00,0.1\n' + lcl_rows("QUOTE0002", 3),
         "unterminated_quote"),
    Drop("single_200mb_line", f"inbound/{LCL}/long-line.csv",
         lambda: LCL_HEADER + b"LONG00001,2031-01-01 00:00:00," + b"9" * (200 * MIB), "line_too_long"),
    Drop("merge_conflict", f"inbound/{LCL}/merge.csv", _merge_conflict, "merge_conflict"),
    Drop("mixed_encodings", f"inbound/{LCL}/mixed.csv", _mixed_encodings, "encoding"),
    Drop("bom_in_the_middle", f"inbound/{LCL}/bom.csv",
         lambda: LCL_HEADER + lcl_rows("BOMMID001", 2) + b"\xef\xbb\xbf" + lcl_rows("BOMMID002", 2), "encoding"),
    Drop("cr_only_line_ends", f"inbound/{LCL}/classic-mac.csv",
         lambda: _valid_lcl("CRONLY001")().replace(b"\n", b"\r"), "line_endings"),
    Drop("dot_dot_in_key", f"inbound/{LCL}/../../curated/readings/feed={LCL}/evil.csv", _valid_lcl("DOTDOT001"),
         "bad_key"),
    Drop("very_long_name", f"inbound/{LCL}/{'n' * 950}.csv", _valid_lcl("LONGNAME1"), "bad_key"),
    Drop("unknown_feed", "inbound/no_such_feed/x.csv", _valid_lcl("NOFEED001"), "unknown_feed"),
    Drop("crlf_lf_mixture", f"inbound/{WIDE}/crlf-mix.csv", lambda: wide_file("HOSTCRLF1", 3, (b"\r\n", b"\n")),
         None, 144),
    Drop("spaces_and_unicode_in_key", f"inbound/{WIDE}/Zähler daten 2031 (1) – ☃.csv",
         lambda: wide_file("HOSTUNI01", 2), None, 96),
    Drop("gzip", f"inbound/{WIDE}/readings.csv.gz", lambda: gzip.compress(wide_file("HOSTGZ001", 2), mtime=0),
         None, 96),
    Drop("two_gzip_members_without_gz_name", f"inbound/{WIDE}/readings-gz.csv",
         lambda: _two_members(wide_file("HOSTGZ002", 2)), None, 96),
    Drop("plus_and_percent_in_key", f"inbound/{WIDE}/a+b%41 c.csv", lambda: wide_file("HOSTPLUS1", 1), None, 48),
]
QUARANTINED = [drop.case for drop in CATALOGUE if drop.rule]
LOADED = [drop.case for drop in CATALOGUE if not drop.rule]


@dataclass
class Outcome:
    drop: Drop
    file_id: str
    execution_status: str
    seconds: float
    record: dict[str, Any]


def _upload(stack: Stack, drop: Drop) -> Tracked:
    body = drop.make()
    response = stack.client("s3").put_object(Bucket=stack.data_bucket, Key=drop.key, Body=body)
    return Tracked(key=drop.key, file_id=file_id_for(drop.feed, response["ETag"], len(body)))


def _seconds(stack: Stack, tracked: Tracked) -> float:
    description = stack.client("stepfunctions").describe_execution(executionArn=tracked.execution_arn)
    return (description["stopDate"] - description["startDate"]).total_seconds()


def _drop_all(stack: Stack, drops: list[Drop]) -> dict[str, Outcome]:
    since = datetime.now(timezone.utc) - CLOCK_SKEW
    tracked = [_upload(stack, drop) for drop in drops]
    wait_for(stack, tracked, since, timeout=600)
    outcomes = {}
    for drop, item in zip(drops, tracked):
        record = audit_table.get_file(stack.audit_table, item.file_id) or {}
        outcomes[drop.case] = Outcome(drop, item.file_id, item.status, _seconds(stack, item), record)
        print(f"{drop.case}: {record.get('status')} {record.get('error_rule', '')} {outcomes[drop.case].seconds:.1f}s"
              f" {record.get('error', '')[:160]}")
    return outcomes


@pytest.fixture(scope="module")
def outcomes(stack: Stack) -> dict[str, Outcome]:
    return _drop_all(stack, CATALOGUE)


def _keys(stack: Stack, prefix: str) -> list[str]:
    s3 = stack.client("s3")
    return [item["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.data_bucket,
                                                                                Prefix=prefix)
            for item in page.get("Contents", [])]


def _totals_items(stack: Stack, file_id: str) -> list[dict[str, Any]]:
    pages = stack.client("dynamodb").get_paginator("scan").paginate(
        TableName=stack.totals_table, FilterExpression="file_id = :id",
        ExpressionAttributeValues={":id": {"S": file_id}})
    return [item for page in pages for item in page["Items"]]


def _loaded_anything(stack: Stack, outcome: Outcome) -> dict[str, Any]:
    """Whatever of the file reached the lake, the rejects or the daily totals (empty when nothing did)."""
    found = {
        "curated": [key for key in _keys(stack, "curated/readings/") if outcome.file_id in key],
        "rejected": _keys(stack, f"rejected/{outcome.drop.feed}/{outcome.file_id}/"),
        "totals": _totals_items(stack, outcome.file_id),
    }
    return {where: items for where, items in found.items() if items}


def _assert_quarantined(stack: Stack, outcome: Outcome, rule: str) -> None:
    record = outcome.record
    assert outcome.execution_status == "FAILED", outcome
    assert (record["status"], record["error_rule"]) == ("QUARANTINED", rule), record
    assert record["error"], "the audit says why"
    location = record["current_key"]
    assert location.startswith(f"quarantine/{outcome.drop.feed}/{outcome.file_id}/"), location
    assert "/../" not in location and "/./" not in location
    head = stack.client("s3").head_object(Bucket=stack.data_bucket, Key=location)
    assert head["Metadata"]["gridflow-rule"] == rule
    assert outcome.drop.key not in _keys(stack, outcome.drop.key), "moved out of inbound/"
    assert _loaded_anything(stack, outcome) == {}


@pytest.mark.parametrize("case", QUARANTINED)
def test_a_hostile_file_is_quarantined_with_its_rule_and_nothing_is_loaded(stack: Stack,
                                                                          outcomes: dict[str, Outcome],
                                                                          case: str) -> None:
    outcome = outcomes[case]
    _assert_quarantined(stack, outcome, outcome.drop.rule or "")


@pytest.mark.parametrize("case", LOADED)
def test_an_unusual_but_valid_file_loads_every_reading(stack: Stack, outcomes: dict[str, Outcome], case: str) -> None:
    outcome = outcomes[case]
    record = outcome.record
    assert (outcome.execution_status, record["status"]) == ("SUCCEEDED", "LOADED"), record
    assert (int(record["rows_loaded"]), int(record["rows_rejected"])) == (outcome.drop.rows, 0)
    assert record["current_key"].startswith(f"raw/{outcome.drop.feed}/year=")
    assert record["current_key"].endswith(outcome.drop.key.rsplit("/", 1)[-1])
    assert sum(int(item["readings"]["N"]) for item in _totals_items(stack, outcome.file_id)
               if item["meter_id"]["S"] != "*") == outcome.drop.rows


def test_a_key_outside_the_feed_folder_is_filed_under_its_last_segment(stack: Stack,
                                                                      outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["dot_dot_in_key"]
    assert outcome.record["current_key"] == f"quarantine/{LCL}/{outcome.file_id}/evil.csv"
    assert "'..'" in outcome.record["error"]
    assert [key for key in _keys(stack, "") if key.endswith("evil.csv")] == [outcome.record["current_key"]]


def test_a_gzip_bomb_stops_early_and_leaves_no_staged_copy(stack: Stack, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["gzip_bomb"]
    expanded = re.search(r"expanded to over (\d+) bytes, more than 100 times: a decompression bomb",
                         outcome.record["error"])
    assert expanded and int(expanded.group(1)) < BOMB_BYTES / 2, outcome.record["error"]
    assert _keys(stack, decompressed_key(outcome.file_id)) == [], "the partly staged copy is aborted"


def test_a_gzip_file_loads_from_its_staged_plain_copy_and_keeps_the_original(
        stack: Stack, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes["gzip"]
    archived = stack.client("s3").get_object(Bucket=stack.data_bucket, Key=outcome.record["current_key"])
    original = outcome.drop.make()
    assert archived["Body"].read() == original
    staged = stack.client("s3").get_object(Bucket=stack.data_bucket, Key=decompressed_key(outcome.file_id))
    assert staged["Body"].read() == gzip.decompress(original)


@pytest.fixture
def validate_limit(stack: Stack) -> Iterator[int]:
    """The Validate function's MAX_FILE_BYTES set to 1000 bytes for one test, as `-var max_file_bytes=1000` would."""
    functions = stack.client("lambda")
    name = f"gridflow-{stack.environment}-validate"
    variables = functions.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    assert variables["MAX_FILE_BYTES"] == str(DEFAULT_MAX_FILE_BYTES), "Terraform sets the limit"
    functions.update_function_configuration(FunctionName=name,
                                            Environment={"Variables": {**variables, "MAX_FILE_BYTES": "1000"}})
    try:
        yield 1000
    finally:
        functions.update_function_configuration(FunctionName=name, Environment={"Variables": variables})


def test_a_file_over_the_configured_size_limit_is_quarantined(stack: Stack, validate_limit: int) -> None:
    body = LCL_HEADER + lcl_rows("TOOBIG001", 40)
    assert len(body) > validate_limit
    outcome = _drop_all(stack, [Drop("over_size_limit", f"inbound/{LCL}/too-big.csv", lambda: body, "too_large")])
    _assert_quarantined(stack, outcome["over_size_limit"], "too_large")
    assert "over the limit of 1000" in outcome["over_size_limit"].record["error"]
