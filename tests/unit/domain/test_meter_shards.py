"""Shards of a file's aggregation: every meter in exactly one, stable, and the feed-day sums of the shards
equal the unsplit totals (worked out independently with Decimal)."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from decimal import Decimal

import pyarrow as pa
import pytest

from tasks.domain import meter_shards
from tasks.domain.daily_totals import METER_DAY_SCHEMA, feed_day_totals

METERS = [f"MAC{n:06d}" for n in range(500)]


def meter_day_rows() -> list[dict]:
    rows = []
    for n, meter in enumerate(METERS):
        for day in ("2013-01-01", "2013-01-02"):
            for channel in ("import", "export")[: 1 + n % 2]:
                rows.append({"meter_id": meter, "channel": channel, "day": day,
                             "kwh": Decimal(f"{n % 97}.{n:03d}"), "readings": 48 - n % 3, "anomalies": n % 2,
                             "duplicates": int(n % 5 == 0), "expected": 48})
    return rows


def test_a_meter_always_lands_in_the_same_shard_in_another_process() -> None:
    here = [meter_shards.shard_of(meter, 7) for meter in METERS[:50]]
    code = ("from tasks.domain.meter_shards import shard_of;"
            f"print([shard_of(m, 7) for m in {METERS[:50]!r}])")
    there = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": "123"}).stdout.strip()
    assert str(here) == there
    assert meter_shards.shard_of("MAC000002", 16) == meter_shards.shard_of("MAC000002", 16)


@pytest.mark.parametrize("shards", [1, 2, 7, 16])
def test_every_row_is_in_exactly_one_shard_and_shards_share_no_meter(shards: int) -> None:
    table = pa.Table.from_pylist(meter_day_rows(), schema=METER_DAY_SCHEMA)
    parts = meter_shards.split(table, shards)
    assert sum(part.num_rows for part in parts) == table.num_rows
    seen: dict[str, int] = {}
    for index, part in enumerate(parts):
        for meter in set(part["meter_id"].to_pylist()):
            assert seen.setdefault(meter, index) == index
    assert set(seen) == set(METERS)
    if shards > 1:
        assert all(part.num_rows for part in parts), "500 meters should reach every shard"


def test_feed_day_totals_of_the_shards_equal_the_unsplit_totals_computed_independently() -> None:
    rows = meter_day_rows()
    table = pa.Table.from_pylist(rows, schema=METER_DAY_SCHEMA)
    combined = meter_shards.combine_feed_days([feed_day_totals(part) for part in meter_shards.split(table, 7)])
    expected: dict[tuple[str, str], list] = defaultdict(lambda: [Decimal(0), 0, 0, 0, set()])
    for row in rows:
        entry = expected[(row["channel"], row["day"])]
        entry[0] += row["kwh"]
        entry[1] += row["readings"]
        entry[2] += row["anomalies"]
        entry[3] += int(row["duplicates"])
        entry[4].add(row["meter_id"])
    got = {(r["channel"], r["day"]): [r["kwh"], r["readings"], r["anomalies"], r["duplicates"], r["meters"]]
           for r in combined.to_pylist()}
    assert got == {key: [kwh, readings, anomalies, duplicates, len(meters)]
                   for key, (kwh, readings, anomalies, duplicates, meters) in expected.items()}
    assert combined.equals(feed_day_totals(table))


@pytest.mark.parametrize(("meters", "shard_meters", "most", "expected"),
                         [(10, 20, 16, 1), (20, 20, 16, 1), (21, 20, 16, 2), (1000, 20, 16, 16), (50, 10, 1, 1)])
def test_shard_count(meters: int, shard_meters: int, most: int, expected: int) -> None:
    assert meter_shards.shard_count(meters, shard_meters, most) == expected
