"""Gzip input: recognising it, and inflating it as a stream with a bound on what it may expand to."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator

from tasks.domain import lake_layout
from tasks.domain.errors import InvalidFile

GZIP = "gzip"
GZIP_MAGIC = b"\x1f\x8b"
GZIP_SUFFIX = ".gz"
GZIP_WINDOW = 16 + zlib.MAX_WBITS  # zlib's wbits for gzip framing only
OUTPUT_BLOCK_BYTES = 8 * 1024 * 1024
MAX_EXPANSION = 100  # meter CSV gzips 5-20x; a bomb expands about 1000x
EXPANSION_CHECKED_FROM_BYTES = 64 * 1024 * 1024


def compression_of(name: str, head: bytes) -> str:
    """"gzip" when the name ends in .gz or the first bytes are gzip's magic number, else ""."""
    return GZIP if head.startswith(GZIP_MAGIC) or name.lower().endswith(GZIP_SUFFIX) else ""


def decompressed_key(file_id: str) -> str:
    """Where a compressed file's plain text is staged for planning and the chunk transforms."""
    return f"{lake_layout.work_prefix(file_id)}decompressed"


class _Budget:
    """decompressed_too_large when the output passes max_bytes, or MAX_EXPANSION times the input read so far."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.read = 0
        self.written = 0

    def spend(self, output: int) -> None:
        self.written += output
        if self.written > self.max_bytes:
            raise InvalidFile("decompressed_too_large", f"the gzip data expands to more than the limit of "
                                                        f"{self.max_bytes} bytes")
        if self.written > max(EXPANSION_CHECKED_FROM_BYTES, MAX_EXPANSION * self.read):
            raise InvalidFile("decompressed_too_large", f"{self.read} gzip bytes expanded to over {self.written} "
                                                        f"bytes, more than {MAX_EXPANSION} times: a decompression "
                                                        "bomb")


def _inflate(inflater: zlib._Decompress, data: bytes, budget: _Budget) -> Iterator[bytes]:
    """Everything the data inflates to, OUTPUT_BLOCK_BYTES at a time (never more in memory)."""
    while True:
        try:
            output = inflater.decompress(data, OUTPUT_BLOCK_BYTES)
        except zlib.error as error:
            raise InvalidFile("bad_gzip", f"the gzip data is corrupt after {budget.read} bytes: {error}") from error
        budget.spend(len(output))
        if output:
            yield output
        data = inflater.unconsumed_tail
        if inflater.eof or (not data and len(output) < OUTPUT_BLOCK_BYTES):
            return


def gunzip(blocks: Iterable[bytes], max_bytes: int) -> Iterator[bytes]:
    """The plain bytes of gzip data (one or more members); InvalidFile for data that is not whole gzip."""
    budget = _Budget(max_bytes)
    inflater: zlib._Decompress | None = None
    members = 0
    pending = b""
    for block in blocks:
        budget.read += len(block)
        pending += block
        while pending:
            if inflater is None:
                if len(pending) < len(GZIP_MAGIC):
                    break
                _check_member_start(pending, members)
                inflater = zlib.decompressobj(GZIP_WINDOW)
            yield from _inflate(inflater, pending, budget)
            if inflater.eof:
                pending, inflater, members = inflater.unused_data, None, members + 1
            else:
                pending = b""
    if inflater is not None:
        raise InvalidFile("bad_gzip", f"the gzip data stops after {budget.read} bytes, before its end: "
                                      "the upload was cut short")
    if pending:
        _check_member_start(pending, members)


def _check_member_start(data: bytes, members: int) -> None:
    if data.startswith(GZIP_MAGIC):
        return
    if members == 0:
        raise InvalidFile("not_gzip", f"the file is named .gz but is not gzip data (it starts with {data[:8]!r})")
    raise InvalidFile("bad_gzip", f"the gzip data is followed by bytes that are not gzip ({data[:8]!r})")
