"""Property tests of the chunk planner and of its quote rule, against pyarrow's own reading of the same lines."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tasks.domain.chunk_plan import ChunkPlan, plan_file
from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import load_feed_spec
from tests.unit.domain.pyarrow_oracle import NEXT_LINE, closes_on_its_line
from tests.unit.domain.property_settings import bounded
from tests.unit.domain.support import blocks

BOUNDED = bounded(200)
LCL = load_feed_spec("lcl_halfhourly")
HEADER = ",".join(LCL.columns).encode() + b"\n"


def rule_of(data: bytes, block_size: int) -> str | None:
    try:
        plan_file(blocks(data, block_size), LCL, 1 << 20)
    except InvalidFile as error:
        return error.rule
    return None


@BOUNDED
@given(line=st.text(alphabet='ab ,"', min_size=1, max_size=14), before=st.integers(0, 3),
       block_size=st.integers(1, 120))
def test_a_quote_is_refused_exactly_when_pyarrow_would_read_past_the_line_end(line: str, before: int,
                                                                              block_size: int) -> None:
    """Whatever the blocks the file streams in (so wherever the inspector's runs of lines end)."""
    closes = closes_on_its_line(line.encode())
    data = HEADER + NEXT_LINE * before + line.encode() + b"\n" + NEXT_LINE
    assert (rule_of(data, block_size) == "unterminated_quote") == (not closes)


LINES = st.lists(st.sampled_from([b"MAC000002,2013-01-01 00:00:00,0.1", b"", b"  ", b"M,2013-01-01 00:30:00,12.5",
                                  b"x" * 90, b'"q",x,"y""z"']), min_size=1, max_size=40)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = draw(LINES)
    ends = draw(st.lists(st.sampled_from([b"\n", b"\r\n"]), min_size=len(lines), max_size=len(lines)))
    data = HEADER + b"".join(line + end for line, end in zip(lines, ends))
    return data.rstrip(b"\r\n") if draw(st.booleans()) else data


def plan(data: bytes, target: int, block_size: int) -> ChunkPlan | str:
    try:
        return plan_file(blocks(data, block_size), LCL, target)
    except InvalidFile as error:
        return error.rule


@BOUNDED
@given(data=files(), target=st.integers(1, 500), block_size=st.integers(1, 200))
def test_chunks_are_whole_lines_that_tile_the_data_whatever_the_block_size(data: bytes, target: int,
                                                                           block_size: int) -> None:
    planned = plan(data, target, block_size)
    assert planned == plan(data, target, len(data) + 1)
    if isinstance(planned, str):
        assert planned == "no_data"
        return
    chunks = planned.chunks
    assert chunks[0].start == planned.header_end == len(HEADER) and chunks[-1].end == len(data)
    for chunk, after in zip(chunks, chunks[1:]):
        assert chunk.end == after.start and after.first_line == chunk.first_line + chunk.lines
        assert data[chunk.end - 1:chunk.end] == b"\n" and chunk.end - chunk.start >= target
    for chunk in chunks:
        body = data[chunk.start:chunk.end]
        assert chunk.lines == body.count(b"\n") + (0 if body.endswith(b"\n") else 1)
    assert sum(chunk.lines for chunk in chunks) == len(data[len(HEADER):].splitlines())
