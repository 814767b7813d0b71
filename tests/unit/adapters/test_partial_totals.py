"""Partial totals in work/, on moto's in-process S3: a shard reads exactly its meters' rows of every chunk and
fetches only the footer and its row groups; the planning call reads only the footers' meter sketches."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest

from tasks.adapters import lake_writer, s3_objects
from tasks.adapters.aws_clients import client
from tasks.domain import lake_layout, meter_shards, meter_sketch
from tasks.domain.daily_totals import PARTIAL_SCHEMA

FILE_ID = "0123456789abcdef01234567"


@pytest.fixture
def bucket(s3_bucket: str) -> str:
    return s3_bucket


def partial(meters: range, days: int) -> pa.Table:
    keys = [(meter, day) for meter in meters for day in range(days)]
    count = len(keys)
    return pa.table({"meter_id": [f"MAC{meter:06d}" for meter, _ in keys],
                     "channel": pa.repeat(pa.scalar("import"), count),
                     "day": [f"2013-01-{day + 1:02d}" for _, day in keys],
                     "kwh": [Decimal(meter % 97) / 8 for meter, _ in keys], "readings": pa.repeat(pa.scalar(48), count),
                     "anomalies": [meter % 2 for meter, _ in keys], "duplicates": pa.repeat(pa.scalar(0), count),
                     "expected": pa.repeat(pa.scalar(48), count), "slots": pa.repeat(pa.scalar((1 << 48) - 1), count)},
                    schema=PARTIAL_SCHEMA)


@pytest.fixture
def chunks(bucket: str) -> list[pa.Table]:
    """Three chunks of a file sorted by meter: 120,000 meters, two days each, split at meter boundaries."""
    tables = [partial(range(0, 30_000), 2), partial(range(30_000, 90_000), 2), partial(range(90_000, 120_000), 2)]
    for index, table in enumerate(tables):
        lake_writer.write_partial_totals(bucket, FILE_ID, index, table)
    return tables


def rows(tables: list[pa.Table]) -> list[dict]:
    return sorted((row for table in tables for row in table.select(PARTIAL_SCHEMA.names).to_pylist()),
                  key=lambda row: (row["meter_id"], row["day"]))


@pytest.mark.parametrize("shards", [1, 16])
def test_the_shards_read_every_row_of_every_chunk_once_and_only_their_meters(bucket: str, chunks: list[pa.Table],
                                                                            shards: int) -> None:
    read: list[pa.Table] = []
    for shard in range(shards):
        parts = lake_writer.read_partial_totals(bucket, FILE_ID, [0, 1, 2], meter_shards.hash_range(shard, shards))
        assert len(parts) == 3
        for part in parts:
            assert {meter_shards.shard_of(meter, shards) for meter in part["meter_id"].to_pylist()} <= {shard}
        read.extend(parts)
    assert rows(read) == rows(chunks)
    assert rows(lake_writer.read_partial_totals(bucket, FILE_ID, [0, 1, 2])) == rows(chunks)


def test_a_shard_fetches_the_footer_and_its_row_groups_not_the_objects(bucket: str, chunks: list[pa.Table],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fetched: list[int] = []
    read_range, read_tail = s3_objects.read_range, s3_objects.read_tail

    def counting_range(*args: object) -> bytes:
        data = read_range(*args)  # type: ignore[arg-type]
        fetched.append(len(data))
        return data

    def counting_tail(*args: object) -> tuple[bytes, int]:
        data, size = read_tail(*args)  # type: ignore[arg-type]
        fetched.append(len(data))
        return data, size

    monkeypatch.setattr(s3_objects, "read_range", counting_range)
    monkeypatch.setattr(s3_objects, "read_tail", counting_tail)
    stored = sum(client("s3").head_object(Bucket=bucket, Key=lake_layout.partial_totals_key(FILE_ID, index))[
        "ContentLength"] for index in range(3))
    lake_writer.read_partial_totals(bucket, FILE_ID, [0, 1, 2], meter_shards.hash_range(5, 16))
    assert len(fetched) <= 6, "a suffix GET for the footer and one ranged GET for the row groups, a chunk"
    assert sum(fetched) < stored / 4, f"{sum(fetched)} of {stored} bytes"


def test_the_footers_hold_each_chunks_meter_sketch(bucket: str, chunks: list[pa.Table]) -> None:
    sketches = lake_writer.meter_sketches(bucket, FILE_ID, [0, 1, 2])
    assert sketches == [meter_sketch.sketch_of(meter_shards.hash_column(table["meter_id"])) for table in chunks]
    assert abs(meter_sketch.estimated_meters(sketches) - 120_000) < 12_000


def test_a_chunk_without_readings_reads_as_empty(bucket: str) -> None:
    lake_writer.write_partial_totals(bucket, FILE_ID, 0, PARTIAL_SCHEMA.empty_table())
    [part] = lake_writer.read_partial_totals(bucket, FILE_ID, [0], meter_shards.hash_range(0, 2))
    assert part.num_rows == 0
    assert lake_writer.meter_sketches(bucket, FILE_ID, [0]) == [[]]
