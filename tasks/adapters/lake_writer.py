"""Writes a chunk's outputs: curated Parquet per reading date, rejected rows, partial daily totals."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from tasks.adapters import lake_reader, s3_objects
from tasks.domain import lake_layout

PARQUET_COMPRESSION = "zstd"


def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink, compression=PARQUET_COMPRESSION)
    return sink.getvalue()


def write_curated(bucket: str, feed: str, file_id: str, chunk_index: int, readings: pa.Table) -> list[str]:
    """One Parquet object per reading date, at a key fixed by (file, chunk, date): a rerun overwrites."""
    keys = []
    if readings.num_rows == 0:
        return keys
    for reading_date in pc.unique(readings["reading_date"]).to_pylist():
        day = readings.filter(pc.equal(readings["reading_date"], reading_date)).drop_columns(["reading_date"])
        day = day.sort_by([("meter_id", "ascending"), ("channel", "ascending"), ("interval_start", "ascending")])
        key = lake_layout.curated_key(feed, reading_date.isoformat(), file_id, chunk_index)
        s3_objects.put_bytes(bucket, key, parquet_bytes(day))
        keys.append(key)
    return keys


def write_rejected(bucket: str, feed: str, file_id: str, chunk_index: int, rejected: pa.Table) -> str | None:
    """The chunk's rejected rows with their rule and reason, as CSV a person can open."""
    if rejected.num_rows == 0:
        return None
    sink = io.BytesIO()
    pa_csv.write_csv(rejected, sink)
    key = lake_layout.rejected_key(feed, file_id, chunk_index)
    s3_objects.put_bytes(bucket, key, sink.getvalue(), "text/csv")
    return key


def write_partial_totals(bucket: str, file_id: str, chunk_index: int, partial: pa.Table) -> str:
    key = lake_layout.partial_totals_key(file_id, chunk_index)
    s3_objects.put_bytes(bucket, key, parquet_bytes(partial))
    return key


def read_partial_totals(bucket: str, file_id: str, chunk_indexes: list[int]) -> list[pa.Table]:
    """The partial totals of exactly these chunks (never a leftover of another attempt's plan)."""
    keys = [lake_layout.partial_totals_key(file_id, index) for index in sorted(chunk_indexes)]
    return [lake_reader.read_parquet(bucket, key) for key in keys]


def write_chunk_outputs(bucket: str, file_id: str, chunk_index: int, keys: list[str]) -> None:
    """Record which lake objects a chunk wrote, so a failed load can be taken back out."""
    s3_objects.put_json(bucket, lake_layout.chunk_outputs_key(file_id, chunk_index), {"keys": keys})


def written_outputs(bucket: str, file_id: str) -> list[str]:
    """Every lake object any chunk of any attempt of this file recorded."""
    keys: list[str] = []
    for manifest in s3_objects.list_keys(bucket, lake_layout.chunk_outputs_prefix(file_id)):
        keys.extend(s3_objects.get_json(bucket, manifest)["keys"])
    return sorted(set(keys))


def all_partial_totals(bucket: str, file_id: str) -> list[pa.Table]:
    """Every partial-totals object of this file, whatever plan wrote it (for taking a load back out)."""
    keys = s3_objects.list_keys(bucket, lake_layout.partial_totals_prefix(file_id))
    return [lake_reader.read_parquet(bucket, key) for key in sorted(keys)]
