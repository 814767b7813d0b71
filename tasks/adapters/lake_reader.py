"""Reads Parquet back from the lake: work files, and the curated readings of the day partitions a file touches."""

from __future__ import annotations

import io
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tasks.adapters import s3_objects
from tasks.adapters.aws_clients import client
from tasks.domain import lake_layout
from tasks.domain.supersession import DELIVERY_COLUMNS

READ_THREADS = 8
FOOTER_READ_BYTES = 64 * 1024  # one ranged GET holds the footer of a curated object (a few KB)
COMPACTION_METADATA = b"gridflow.compaction"  # in a compacted object's footer: its inputs and files
# What makes a row one delivery: the same file, line and interval (a wide line gives 48 intervals).
ROW_IDENTITY = ["file_id", "source_line", "meter_id", "channel", "interval_start"]


def read_parquet(bucket: str, key: str, columns: list[str] | None = None,
                 meters: list[str] | None = None) -> pa.Table:
    """The object's rows, or with `meters` only theirs (filtered row group by row group, never all in memory)."""
    filters = [("meter_id", "in", meters)] if meters is not None else None
    return pq.read_table(io.BytesIO(s3_objects.get_bytes(bucket, key)), columns=columns, filters=filters)


class _Windows(io.RawIOBase):
    """A read-only file of `size` bytes of which only some windows (start, bytes) are known, fetched with ranged
    GETs: enough for a Parquet footer and the row groups wanted. A read outside them fails."""

    def __init__(self, size: int, windows: list[tuple[int, bytes]]) -> None:
        self._size, self._windows, self._at = size, windows, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._at

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._at = {io.SEEK_SET: 0, io.SEEK_CUR: self._at, io.SEEK_END: self._size}[whence] + offset
        return self._at

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        wanted = min(len(buffer), self._size - self._at)
        for start, data in self._windows:
            if start <= self._at and self._at + wanted <= start + len(data):
                buffer[:wanted] = data[self._at - start:self._at - start + wanted]
                self._at += wanted
                return wanted
        raise OSError(f"bytes {self._at}-{self._at + wanted} were not fetched")


def _footer_of(bucket: str, key: str, tail: bytes, size: int) -> tuple[pq.FileMetaData, bytes]:
    """The footer from an object's last bytes, fetching the whole footer when it is longer than they are."""
    footer = int.from_bytes(tail[-8:-4], "little") + 8
    if footer > len(tail):
        tail = s3_objects.read_range(bucket, key, size - footer, size)
    return pq.read_metadata(_Windows(size, [(size - len(tail), tail)])), tail


def read_footer(bucket: str, key: str, size: int) -> pq.FileMetaData:
    """A Parquet object's footer with one ranged GET (two if the footer is larger than FOOTER_READ_BYTES)."""
    tail = s3_objects.read_range(bucket, key, max(0, size - FOOTER_READ_BYTES), size)
    return _footer_of(bucket, key, tail, size)[0]


def read_footer_of(bucket: str, key: str) -> pq.FileMetaData:
    """A Parquet object's footer, its size unknown: one suffix-ranged GET (two if the footer is larger)."""
    return _tail_and_footer(bucket, key)[1]


def _tail_and_footer(bucket: str, key: str) -> tuple[int, pq.FileMetaData, bytes]:
    tail, size = s3_objects.read_tail(bucket, key, FOOTER_READ_BYTES)
    footer, tail = _footer_of(bucket, key, tail, size)
    return size, footer, tail


def _row_group_span(footer: pq.FileMetaData, group: int) -> tuple[int, int]:
    """[start, end) of a row group's column chunks in the file."""
    columns = [footer.row_group(group).column(index) for index in range(footer.num_columns)]
    starts = [column.dictionary_page_offset if column.has_dictionary_page else column.data_page_offset
              for column in columns]
    return min(starts), max(start + column.total_compressed_size for start, column in zip(starts, columns))


def read_range_of(bucket: str, key: str, column: str, low: int, high: int) -> pa.Table:
    """The rows whose integer `column` is in [low, high), fetching only the footer and the row groups whose
    statistics overlap the range (in one ranged GET when the object is sorted by that column)."""
    size, footer, tail = _tail_and_footer(bucket, key)
    position = footer.schema.to_arrow_schema().get_field_index(column)
    groups = []
    for group in range(footer.num_row_groups):
        statistics = footer.row_group(group).column(position).statistics
        if statistics is None or not statistics.has_min_max or (statistics.min < high and statistics.max >= low):
            groups.append(group)
    if not groups:
        return footer.schema.to_arrow_schema().empty_table()
    spans = [_row_group_span(footer, group) for group in groups]
    start, end = min(span[0] for span in spans), max(span[1] for span in spans)
    windows = [(size - len(tail), tail)]
    if start < size - len(tail):
        windows.append((start, s3_objects.read_range(bucket, key, start, end)))
    table = pq.ParquetFile(_Windows(size, windows), metadata=footer).read_row_groups(groups)
    return table.filter(pc.and_(pc.greater_equal(table[column], low), pc.less(table[column], high)))


@dataclass(frozen=True)
class LakeObject:
    key: str
    size: int

    @property
    def day(self) -> str:
        return lake_layout.day_of(self.key)


def list_objects(bucket: str, prefix: str) -> list[LakeObject]:
    """The visible Parquet objects under a prefix, with their sizes (names starting with _ or . are skipped,
    as Athena and the local engine skip them)."""
    paginator = client("s3").get_paginator("list_objects_v2")
    return [LakeObject(item["Key"], int(item["Size"])) for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", []) if not lake_layout.is_hidden(item["Key"])]


@dataclass(frozen=True)
class Compacted:
    """A compacted object: the objects it replaced and the files its rows belong to (from its footer)."""

    key: str
    size: int
    inputs: list[str]
    files: list[str]


def compaction_metadata(bucket: str, item: LakeObject) -> Compacted:
    metadata = read_footer(bucket, item.key, item.size).metadata or {}
    document = json.loads(metadata.get(COMPACTION_METADATA, b"{}"))
    return Compacted(key=item.key, size=item.size, inputs=document.get("inputs", []),
                     files=document.get("files", []))


def compacted_objects(bucket: str, items: list[LakeObject]) -> list[Compacted]:
    with ThreadPoolExecutor(READ_THREADS) as pool:
        return list(pool.map(lambda item: compaction_metadata(bucket, item),
                             [item for item in items if lake_layout.is_compacted(item.key)]))


@dataclass(frozen=True)
class DayObjects:
    """Curated objects of some day partitions: (day, key) of this file's chunk objects, of other files' chunk
    objects, and the compacted objects (rows of several files; `holding` those with rows of this file)."""

    own: list[tuple[str, str]]
    others: list[tuple[str, str]]
    compacted: list[tuple[str, str]] = field(default_factory=list)
    holding: list[tuple[str, str]] = field(default_factory=list)


def day_objects(bucket: str, feed: str, days: list[str], file_id: str) -> DayObjects:
    """One listing per reading_date partition, split by whether this file wrote the object; a compacted
    object's footer says which files it holds."""
    own: list[tuple[str, str]] = []
    others: list[tuple[str, str]] = []
    compacted: list[LakeObject] = []
    for day in days:
        for item in list_objects(bucket, lake_layout.curated_prefix(feed, day)):
            if lake_layout.is_compacted(item.key):
                compacted.append(item)
            else:
                (own if lake_layout.file_of(item.key) == file_id else others).append((day, item.key))
    described = compacted_objects(bucket, compacted)
    return DayObjects(own=own, others=others,
                      compacted=[(lake_layout.day_of(c.key), c.key) for c in described],
                      holding=[(lake_layout.day_of(c.key), c.key) for c in described if file_id in c.files])


def distinct_rows(table: pa.Table) -> pa.Table:
    """One row per delivery: a reading in a chunk object and in a compacted copy of it counts once."""
    if table.num_rows < 2:
        return table
    position = table.select(ROW_IDENTITY).append_column("position", pa.array(range(table.num_rows), pa.int64()))
    first = position.group_by(ROW_IDENTITY, use_threads=False).aggregate([("position", "min")])
    if first.num_rows == table.num_rows:
        return table
    return table.take(pc.sort_indices(first["position_min"]))


def read_deliveries(bucket: str, objects: list[tuple[str, str]], files: set[str] | None = None,
                    meters: list[str] | None = None) -> pa.Table:
    """The delivery columns of these curated objects, with the reading_date their partition gives; with
    `files`, only those files' rows (a compacted object holds several files), with `meters` only those meters'
    rows; each delivery once."""
    def read(item: tuple[str, str]) -> pa.Table:
        table = read_parquet(bucket, item[1], DELIVERY_COLUMNS, meters)
        if files is not None and lake_layout.is_compacted(item[1]):
            table = table.filter(pc.is_in(table["file_id"], value_set=pa.array(sorted(files), pa.string())))
        day = pa.scalar(date.fromisoformat(item[0]), pa.date32())
        return table.append_column("reading_date", pa.repeat(day, table.num_rows))

    with ThreadPoolExecutor(READ_THREADS) as pool:
        tables = list(pool.map(read, objects))
    if not tables:
        return pa.schema([]).empty_table()
    table = pa.concat_tables(tables)
    # only a compacted object can hold a copy of a chunk object's row (during a rerun or an interrupted compaction)
    return distinct_rows(table) if any(lake_layout.is_compacted(key) for _, key in objects) else table
