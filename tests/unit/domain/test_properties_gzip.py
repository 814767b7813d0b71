"""Property tests of gunzip: any bytes inflate or fail with a gzip rule, and never inflate to the wrong text."""

from __future__ import annotations

import gzip

from hypothesis import given
from hypothesis import strategies as st

from tasks.domain.decompression import gunzip
from tasks.domain.errors import InvalidFile
from tests.unit.domain.property_settings import bounded
from tests.unit.domain.support import blocks

BOUNDED = bounded(200)
GZIP_RULES = {"not_gzip", "bad_gzip", "decompressed_too_large"}
LIMIT = 1 << 20


def inflate(data: bytes, block_size: int, limit: int = LIMIT) -> bytes | str:
    """The plain bytes, or the rule that refused them."""
    try:
        return b"".join(gunzip(blocks(data, block_size), limit))
    except InvalidFile as error:
        assert error.rule in GZIP_RULES, error
        return error.rule


@BOUNDED
@given(data=st.binary(max_size=2000), block_size=st.integers(1, 300))
def test_any_bytes_inflate_or_fail_with_a_gzip_rule(data: bytes, block_size: int) -> None:
    inflate(data, block_size)


@BOUNDED
@given(text=st.binary(max_size=5000), cuts=st.lists(st.integers(0, 5000), max_size=3),
       block_size=st.integers(1, 500))
def test_gzip_members_inflate_to_their_text_at_any_block_size(text: bytes, cuts: list[int], block_size: int) -> None:
    edges = [0, *sorted(min(cut, len(text)) for cut in cuts), len(text)]
    members = b"".join(gzip.compress(text[start:end], mtime=0) for start, end in zip(edges, edges[1:]))
    assert inflate(members, block_size) == text


@BOUNDED
@given(text=st.binary(min_size=1, max_size=3000), position=st.integers(0, 10_000), flip=st.integers(1, 255),
       block_size=st.integers(1, 500))
def test_a_corrupted_byte_never_inflates_to_other_text(text: bytes, position: int, flip: int,
                                                      block_size: int) -> None:
    data = bytearray(gzip.compress(text, mtime=0))
    data[position % len(data)] ^= flip
    assert inflate(bytes(data), block_size) in (text, *GZIP_RULES)


@BOUNDED
@given(text=st.binary(max_size=3000), limit=st.integers(0, 3000), block_size=st.integers(1, 500))
def test_output_never_passes_the_limit(text: bytes, limit: int, block_size: int) -> None:
    result = inflate(gzip.compress(text, mtime=0), block_size, limit)
    assert result == (text if len(text) <= limit else "decompressed_too_large")
