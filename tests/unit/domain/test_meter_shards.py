"""Shards of a file's aggregation: every meter in exactly one, stable, and the feed-day sums of the shards
equal the unsplit totals (worked out independently with Decimal)."""

from __future__ import annotations

import subprocess
import sys
import zlib
from collections import Counter, defaultdict
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tasks.domain import meter_shards, meter_sketch
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


def split(table: pa.Table, shards: int) -> list[pa.Table]:
    """The rows of each shard, by the hash ranges a shard reads its partial totals with."""
    hashes = meter_shards.hash_column(table["meter_id"])
    parts = []
    for shard in range(shards):
        low, high = meter_shards.hash_range(shard, shards)
        parts.append(table.filter(pc.and_(pc.greater_equal(hashes, low), pc.less(hashes, high))))
    return parts


@pytest.mark.parametrize("shards", [1, 2, 7, 16, 500])
def test_the_hash_ranges_of_the_shards_cover_every_hash_once_and_agree_with_shard_of(shards: int) -> None:
    ranges = [meter_shards.hash_range(shard, shards) for shard in range(shards)]
    assert ranges[0][0] == 0 and ranges[-1][1] == 1 << 32
    assert all(high == low for (_, high), (low, _) in zip(ranges, ranges[1:]))
    for meter in METERS:
        low, high = ranges[meter_shards.shard_of(meter, shards)]
        assert low <= zlib.crc32(meter.encode()) < high


def test_the_hash_column_is_each_ids_hash() -> None:
    ids = pa.chunked_array([pa.array(METERS[:5] + METERS[:2]), pa.array(METERS[7:9])])
    assert meter_shards.hash_column(ids).to_pylist() == [zlib.crc32(m.encode()) for m in METERS[:5] + METERS[:2]
                                                         + METERS[7:9]]


def test_a_million_meters_spread_evenly_over_500_shards() -> None:
    counts = Counter(meter_shards.shard_of(f"{n:013d}", 500) for n in range(1_000_000))
    assert len(counts) == 500 and 0.85 * 2000 < min(counts.values()) and max(counts.values()) < 1.15 * 2000


@pytest.mark.parametrize("shards", [1, 2, 7, 16])
def test_every_row_is_in_exactly_one_shard_and_shards_share_no_meter(shards: int) -> None:
    table = pa.Table.from_pylist(meter_day_rows(), schema=METER_DAY_SCHEMA)
    parts = split(table, shards)
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
    combined = meter_shards.combine_feed_days([feed_day_totals(part) for part in split(table, 7)])
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


@pytest.mark.parametrize("meters", [1, 700, 1024, 1025, 5_000, 200_000])
def test_the_meter_sketches_of_the_chunks_count_the_files_meters(meters: int) -> None:
    """Chunks of a file sorted by time each see most meters; sketches merged count each meter once."""
    ids = [f"MAC{n:07d}" for n in range(meters)]
    chunks = [ids[start::3] + ids[:50] for start in range(3)]
    sketches = [meter_sketch.sketch_of(meter_shards.hash_column(pa.array(chunk))) for chunk in chunks]
    whole = meter_sketch.sketch_of(meter_shards.hash_column(pa.array(ids)))
    assert meter_sketch.merged(sketches) == whole
    estimate = meter_sketch.estimated_meters(sketches)
    if meters < meter_sketch.SKETCH_SIZE:
        assert estimate == meters
    else:
        assert abs(estimate - meters) < 0.1 * meters
    assert meter_sketch.estimated_meters([]) == 0
