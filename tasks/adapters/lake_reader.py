"""Reads Parquet back from the lake: work files, and the curated readings of the day partitions a file touches."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from tasks.adapters import s3_objects
from tasks.domain import lake_layout
from tasks.domain.supersession import DELIVERY_COLUMNS

READ_THREADS = 8


def read_parquet(bucket: str, key: str, columns: list[str] | None = None) -> pa.Table:
    return pq.read_table(io.BytesIO(s3_objects.get_bytes(bucket, key)), columns=columns)


@dataclass(frozen=True)
class DayObjects:
    """Curated objects of some day partitions: (day, key) of this file's and of other files'."""

    own: list[tuple[str, str]]
    others: list[tuple[str, str]]


def day_objects(bucket: str, feed: str, days: list[str], file_id: str) -> DayObjects:
    """One listing per reading_date partition, split by whether this file wrote the object."""
    own: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    for day in days:
        for key in s3_objects.list_keys(bucket, lake_layout.curated_prefix(feed, day)):
            (own if key.rsplit("/", 1)[-1].startswith(f"{file_id}-") else others).append((day, key))
    return DayObjects(own=own, others=others)


def read_deliveries(bucket: str, objects: list[tuple[str, str]]) -> pa.Table:
    """The delivery columns of these curated objects, with the reading_date their partition gives."""
    def read(item: tuple[str, str]) -> pa.Table:
        table = read_parquet(bucket, item[1], DELIVERY_COLUMNS)
        day = pa.scalar(date.fromisoformat(item[0]), pa.date32())
        return table.append_column("reading_date", pa.repeat(day, table.num_rows))

    with ThreadPoolExecutor(READ_THREADS) as pool:
        tables = list(pool.map(read, objects))
    return pa.concat_tables(tables) if tables else pa.schema([]).empty_table()
