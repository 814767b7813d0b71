"""What a query reads from the lake: Parquet objects opened and bytes read, on the local engine.

Athena bills the bytes it scans; locally the same Parquet is read by DuckDB through a pyarrow dataset
(gridflow.sql._local). `profile` runs a report with the dataset's filesystem wrapped in a counter, so the
numbers are the bytes that left S3 (footers, the projected column chunks of the row groups kept), object by
object; `pruning=False` runs the same SQL with DuckDB's filter pushdown switched off, which is what a report
without a usable partition filter costs: every object of the table is opened.

Example
-------
>>> with LocalAthena("my-data-bucket", "http://127.0.0.1:4566") as engine:  # doctest: +SKIP
...     scan = profile(engine, "2013-01", "lcl_halfhourly")
>>> scan.objects, scan.bytes_read, scan.partitions[:1]  # doctest: +SKIP
(31, 412345, ['feed=lcl_halfhourly/reading_date=2013-01-01'])
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from gridflow.sql._local import LocalAthena
from gridflow.sql.reports import monthly_report


@dataclass(frozen=True)
class ScanProfile:
    """Objects and bytes one query read, and the partitions they belong to."""

    objects: int
    bytes_read: int
    partitions: list[str]
    rows: int  # rows of the query's result

    def as_dict(self) -> dict[str, Any]:
        return {"objects": self.objects, "bytes_read": self.bytes_read, "partitions": len(self.partitions),
                "rows": self.rows}


class _CountedFile:
    """A pyarrow input file that adds what is read from it to its filesystem's counter."""

    def __init__(self, inner: pa.NativeFile, path: str, counter: _Counter) -> None:
        self._inner, self._path, self._counter = inner, path, counter
        self.closed = False

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(None if size is None or size < 0 else size)
        self._counter.add(self._path, len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._inner.seek(offset, whence)

    def tell(self) -> int:
        return self._inner.tell()

    def size(self) -> int:
        return self._inner.size()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        self.closed = True
        self._inner.close()


class _Counter:
    def __init__(self) -> None:
        self.bytes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, path: str, count: int) -> None:
        with self._lock:
            self.bytes[path] += count


class _CountingHandler(pafs.FileSystemHandler):
    """Reads through another filesystem and counts the bytes per path; writes are refused."""

    def __init__(self, inner: pafs.FileSystem, counter: _Counter) -> None:
        self._inner, self._counter = inner, counter

    def get_type_name(self) -> str:
        return "gridflow-counting"

    def equals(self, other: Any) -> bool:
        return other is self

    def normalize_path(self, path: str) -> str:
        return self._inner.normalize_path(path)

    def get_file_info(self, paths: list[str]) -> list[pafs.FileInfo]:
        return self._inner.get_file_info(paths)

    def get_file_info_selector(self, selector: pafs.FileSelector) -> list[pafs.FileInfo]:
        return self._inner.get_file_info(selector)

    def open_input_file(self, path: str) -> pa.PythonFile:
        return pa.PythonFile(_CountedFile(self._inner.open_input_file(path), path, self._counter), mode="r")

    def open_input_stream(self, path: str) -> pa.PythonFile:
        return self.open_input_file(path)

    def _read_only(self, *args: Any, **kwargs: Any) -> Any:
        raise OSError("the scan profile only reads")

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only


def _partition(path: str) -> str:
    return "/".join(part for part in path.split("/") if part.startswith(("feed=", "reading_date=")))


def profile(engine: LocalAthena, month: str, feed: str | None = None, pruning: bool = True) -> ScanProfile:
    """Run the monthly report on the local engine and count what it read from the lake."""
    counter = _Counter()
    inner = engine._filesystem  # noqa: SLF001 - the engine's own S3 filesystem, wrapped for this one query
    engine._filesystem = pafs.PyFileSystem(_CountingHandler(inner, counter))  # noqa: SLF001
    connection = engine._con  # noqa: SLF001
    try:
        if not pruning:
            connection.execute("SET disabled_optimizers = 'filter_pushdown'")
        rows = monthly_report(engine, month, feed)
    finally:
        engine._filesystem = inner  # noqa: SLF001
        connection.execute("RESET disabled_optimizers")
    read = {path: count for path, count in counter.bytes.items() if count}
    return ScanProfile(objects=len(read), bytes_read=sum(read.values()),
                       partitions=sorted({_partition(path) for path in read}), rows=len(rows))
