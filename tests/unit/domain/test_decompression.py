"""gunzip: streaming, bounded inflation of gzip input, and how a gzip file is recognised."""

from __future__ import annotations

import gzip

import pytest

from tasks.domain import decompression, lake_layout
from tasks.domain.decompression import compression_of, decompressed_key, gunzip
from tasks.domain.errors import InvalidFile
from tests.unit.domain.support import blocks

TEXT = b"".join(b"MAC%06d,2013-01-01 00:00:00,0.%d\n" % (k, k % 10) for k in range(5000))
LIMIT = 1 << 30


def inflate(data: bytes, block_size: int = 1000, limit: int = LIMIT) -> bytes:
    return b"".join(gunzip(blocks(data, block_size), limit))


def refused(data: bytes, block_size: int = 1000, limit: int = LIMIT) -> InvalidFile:
    with pytest.raises(InvalidFile) as caught:
        inflate(data, block_size, limit)
    return caught.value


@pytest.mark.parametrize("block_size", [1, 2, 3, 1000, 1 << 20])
def test_gzip_inflates_to_its_text_whatever_the_block_size(block_size: int) -> None:
    assert inflate(gzip.compress(TEXT, mtime=0), block_size) == TEXT


@pytest.mark.parametrize("block_size", [1, 7, 1 << 20])
def test_concatenated_members_inflate_to_the_concatenated_text(block_size: int) -> None:
    cut = len(TEXT) // 3
    data = gzip.compress(TEXT[:cut], mtime=0) + gzip.compress(TEXT[cut:], mtime=0)
    assert inflate(data, block_size) == TEXT


def test_an_empty_object_inflates_to_nothing() -> None:
    """Planning then calls it empty, as it does a plain empty file."""
    assert inflate(b"") == b""


@pytest.mark.parametrize(("data", "rule", "fragment"), [
    pytest.param(b"LCLid,tstp\n", "not_gzip", "b'LCLid,ts'", id="plain-text"),
    pytest.param(b"\x1f", "not_gzip", "not gzip", id="one-byte"),
    pytest.param(gzip.compress(TEXT, mtime=0)[:-9], "bad_gzip", "cut short", id="truncated"),
    pytest.param(gzip.compress(TEXT, mtime=0)[:10], "bad_gzip", "cut short", id="header-only"),
    pytest.param(gzip.compress(TEXT, mtime=0) + b"trailing", "bad_gzip", "b'trailing'", id="trailing-bytes"),
    pytest.param(gzip.compress(TEXT, mtime=0) + b"\x1f", "bad_gzip", "not gzip", id="trailing-byte"),
])
def test_data_that_is_not_whole_gzip_is_refused_with_a_reason(data: bytes, rule: str, fragment: str) -> None:
    error = refused(data)
    assert error.rule == rule
    assert fragment in error.reason


def test_a_corrupt_checksum_is_refused() -> None:
    data = bytearray(gzip.compress(TEXT, mtime=0))
    data[-6] ^= 0xFF  # inside the CRC-32 of the trailer
    assert refused(bytes(data)).rule == "bad_gzip"


def test_output_past_the_limit_is_refused() -> None:
    error = refused(gzip.compress(TEXT, mtime=0), limit=len(TEXT) - 1)
    assert (error.rule, f"limit of {len(TEXT) - 1} bytes" in error.reason) == ("decompressed_too_large", True)
    assert inflate(gzip.compress(TEXT, mtime=0), limit=len(TEXT)) == TEXT


def test_a_bomb_is_stopped_by_its_expansion_without_holding_its_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decompression, "OUTPUT_BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(decompression, "EXPANSION_CHECKED_FROM_BYTES", 1 << 20)
    bomb = gzip.compress(b"0" * (16 << 20), mtime=0)  # ~1000 times smaller than what it expands to
    produced = []
    with pytest.raises(InvalidFile) as caught:
        for block in gunzip(blocks(bomb, 1 << 20), LIMIT):
            produced.append(len(block))
    assert caught.value.rule == "decompressed_too_large" and "bomb" in caught.value.reason
    assert max(produced) <= 1 << 16
    assert sum(produced) <= decompression.MAX_EXPANSION * len(bomb) < 16 << 20


def test_expansion_is_only_judged_past_a_floor() -> None:
    """Small files compress far better than 100:1 without being bombs."""
    small = b"0" * (1 << 20)
    assert len(gzip.compress(small)) * decompression.MAX_EXPANSION < len(small)
    assert inflate(gzip.compress(small)) == small


@pytest.mark.parametrize(("name", "head", "expected"), [
    ("readings.csv.gz", b"", "gzip"),
    ("READINGS.CSV.GZ", b"LC", "gzip"),
    ("readings.csv", b"\x1f\x8b", "gzip"),
    ("readings.csv", b"LC", ""),
    ("readings.gzip.csv", b"", ""),
])
def test_compression_is_known_by_name_or_magic_number(name: str, head: bytes, expected: str) -> None:
    assert compression_of(name, head) == expected


def test_the_plain_copy_is_staged_in_the_files_work_area() -> None:
    key = decompressed_key("0123456789abcdef01234567")
    assert key.startswith(lake_layout.work_prefix("0123456789abcdef01234567"))
    assert key != lake_layout.chunk_plan_key("0123456789abcdef01234567")
