"""Splitting one file's aggregation by meter: a stable shard of each meter id, and the exact feed-day sums.

A meter's hash is crc32(meter_id), the same on every run, process and machine (never Python's salted hash());
shard s of n holds the meters whose hash is in the s-th of n equal ranges of the 32-bit hashes. Each chunk
writes its partial totals sorted by that hash (tasks.adapters.lake_writer), so a shard reads only the row
groups of its range and no call ever holds the whole file. Netting is per meter (a reading only ever replaces a
delivery of the same meter and interval), so shards of a file never share a meter-day item; their feed-day
(all meters) sums add up exactly, and meters counted per shard add up too because no meter is in two shards.
"""

from __future__ import annotations

import zlib

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain import lake_layout
from tasks.domain.daily_totals import FEED_DAY_SCHEMA

_SUMMED = ["kwh", "readings", "anomalies", "duplicates", "meters"]
HASH_SPACE = 1 << 32
METER_DAYS_METADATA = "gridflow.meter_days"  # in a shard's feed-day sums: how many meter-days it wrote


def meter_hash(meter_id: str) -> int:
    return zlib.crc32(meter_id.encode("utf-8"))


def hash_column(meter_ids: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The hash of each meter id as int64, each distinct id hashed once."""
    encoded = pc.dictionary_encode(meter_ids.combine_chunks() if isinstance(meter_ids, pa.ChunkedArray)
                                   else meter_ids)
    hashes = pa.array([meter_hash(meter_id) for meter_id in encoded.dictionary.to_pylist()], pa.int64())
    return hashes.take(encoded.indices)


def shard_of(meter_id: str, shards: int) -> int:
    """The shard (0 .. shards-1) of a meter: stable across processes and Python versions."""
    return meter_hash(meter_id) * shards >> 32 if shards > 1 else 0


def hash_range(shard: int, shards: int) -> tuple[int, int]:
    """[low, high): the meter hashes of a shard, so that shard_of(m) == shard exactly when low <= hash < high."""
    return -(-shard * HASH_SPACE // shards), -(-(shard + 1) * HASH_SPACE // shards)


def shard_count(meters: int, shard_meters: int, max_shards: int) -> int:
    """1 when the file has at most shard_meters meters; else enough shards for shard_meters each, at most
    max_shards (a shard then holds more)."""
    if meters <= shard_meters or max_shards <= 1:
        return 1
    return min(max_shards, -(-meters // max(1, shard_meters)))


def combine_feed_days(parts: list[pa.Table]) -> pa.Table:
    """The feed-day totals of a file from its shards' feed-day totals: counts and kWh summed (meters too:
    shards share no meter), the day's expected intervals kept."""
    if not parts:
        return FEED_DAY_SCHEMA.empty_table()
    table = pa.concat_tables([part.cast(FEED_DAY_SCHEMA) for part in parts])
    grouped = table.group_by(["channel", "day"]).aggregate([(name, "sum") for name in _SUMMED]
                                                           + [("expected", "max")])
    result = pa.table({"channel": grouped["channel"], "day": grouped["day"],
                       **{name: grouped[f"{name}_sum"] for name in _SUMMED}, "expected": grouped["expected_max"]})
    return result.select(FEED_DAY_SCHEMA.names).cast(FEED_DAY_SCHEMA).sort_by([("channel", "ascending"),
                                                                               ("day", "ascending")])


def shards_prefix(file_id: str) -> str:
    return f"{lake_layout.work_prefix(file_id)}shards/"


def shard_feed_day_key(file_id: str, shard: int) -> str:
    """One shard's netted feed-day sums, combined once every shard is done."""
    return f"{shards_prefix(file_id)}feed-day-{shard:04d}.parquet"
