"""Reads back the curated readings of the day partitions a file touches, its own and other files'."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.adapters import s3_objects
from tasks.domain import lake_layout
from tasks.domain.supersession import DELIVERY_COLUMNS

READ_THREADS = 8


def _read(bucket: str, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(s3_objects.get_bytes(bucket, key)), columns=DELIVERY_COLUMNS)


def day_deliveries(bucket: str, feed: str, days: list[str], file_id: str) -> tuple[pa.Table, pa.Table]:
    """(this file's readings, other files' readings) in the given reading_date partitions, with reading_date."""
    own_keys: list[tuple[str, str]] = []
    other_keys: list[tuple[str, str]] = []
    for day in days:
        for key in s3_objects.list_keys(bucket, lake_layout.curated_prefix(feed, day)):
            (own_keys if key.rsplit("/", 1)[-1].startswith(f"{file_id}-") else other_keys).append((day, key))
    with ThreadPoolExecutor(READ_THREADS) as pool:
        own = list(pool.map(lambda item: _with_day(_read(bucket, item[1]), item[0]), own_keys))
        others = list(pool.map(lambda item: _with_day(_read(bucket, item[1]), item[0]), other_keys))
    return _concat(own), _concat(others)


def _with_day(table: pa.Table, day: str) -> pa.Table:
    return table.append_column("reading_date", pa.array([day] * table.num_rows, pa.string()).cast(pa.date32()))


def _concat(tables: list[pa.Table]) -> pa.Table:
    if not tables:
        return pa.schema([]).empty_table()
    return pa.concat_tables(tables)
