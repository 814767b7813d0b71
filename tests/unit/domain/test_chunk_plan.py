"""plan_file: one streaming pass that checks a file and cuts it into chunks of whole lines."""

from __future__ import annotations

import json
from functools import cache

import pytest

from tasks.domain import file_inspection
from tasks.domain.chunk_plan import Chunk, ChunkPlan, plan_file
from tasks.domain.daily_totals import combine_partials, partial_daily_totals
from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec, load_feed_spec
from tasks.domain.reading_parser import ParsedChunk, parse_chunk
from tests.unit.domain.support import (
    FEED_OF,
    FILE_ID,
    INGESTED_AT,
    LCL_FILES,
    LCL_HEADER,
    SMALL_FILES,
    WIDE_FILES,
    blocks,
    header_length,
    line_count,
    meter_day_totals,
    non_blank_lines,
    real_bytes,
    reading_tuples,
    ref_tuples,
    reference_daily_totals,
    reference_readings,
)

WHOLE = 0  # stands for "the whole file + 1 byte" as a target chunk size
TARGETS = (1, 7, 100, 4096, WHOLE)
LARGE_FILES = tuple(name for name in LCL_FILES if name not in SMALL_FILES)
PRODUCTION_BLOCK = 8 * 1024 * 1024  # tasks/adapters/s3_objects.STREAM_BLOCK_BYTES
SAMPLED_CHUNKS = 60

HEADER = f"{LCL_HEADER}\n".encode()
ROW = b"MAC000002,2013-01-01 00:00:00, 0.219 \n"
ROW2 = b"MAC000002,2013-01-01 00:30:00, 0.241 \n"
BOM = "\ufeff".encode()


def spec_for(relative: str) -> FeedSpec:
    return load_feed_spec(FEED_OF[relative])


def target_for(target: int, data: bytes) -> int:
    return len(data) + 1 if target == WHOLE else target


def plan(data: bytes, spec: FeedSpec, target: int, block_size: int) -> ChunkPlan:
    return plan_file(blocks(data, block_size), spec, target)


def outcome(data: bytes, spec: FeedSpec, block_size: int, target: int = 100) -> ChunkPlan | str:
    """The plan, or the rule that rejected the file."""
    try:
        return plan(data, spec, target, block_size)
    except InvalidFile as error:
        return error.rule


def invalid(data: bytes, spec: FeedSpec, block_size: int) -> InvalidFile:
    with pytest.raises(InvalidFile) as caught:
        plan(data, spec, 100, block_size)
    return caught.value


def chunk_bytes(data: bytes, chunk: Chunk) -> bytes:
    return data[chunk.start:chunk.end]


@cache
def parse_range(relative: str, start: int, end: int, first_line: int) -> ParsedChunk:
    """parse_chunk of bytes [start, end) of a real file (cached: targets 1 and 7 give the same 1-line chunks)."""
    return parse_chunk(spec_for(relative), real_bytes(relative)[start:end], first_line, FILE_ID, INGESTED_AT)


def parse_plan(relative: str, chunks: list[Chunk]) -> list[ParsedChunk]:
    return [parse_range(relative, chunk.start, chunk.end, chunk.first_line) for chunk in chunks]


def structure_cases() -> list:
    cases = []
    for relative in (*LCL_FILES, *WIDE_FILES):
        for target in TARGETS:
            for block_size in ((1,) if relative in SMALL_FILES else ()) + (13, 65536):
                label = "whole+1" if target == WHOLE else str(target)
                cases.append(pytest.param(relative, target, block_size,
                                          id=f"{relative.split('/')[-1]}-target{label}-block{block_size}"))
    return cases


@pytest.mark.parametrize(("relative", "target", "block_size"), structure_cases())
def test_chunks_are_contiguous_whole_lines_covering_the_data(relative: str, target: int, block_size: int) -> None:
    data = real_bytes(relative)
    spec = spec_for(relative)
    target = target_for(target, data)
    header_end = header_length(data)

    result = plan(data, spec, target, block_size)

    chunks = result.chunks
    assert result.header_end == header_end
    assert result.header == data[:header_end].decode().strip()
    assert result.total_bytes == len(data)
    assert result.data_lines == non_blank_lines(data[header_end:])
    assert [chunk.index for chunk in chunks] == list(range(len(chunks)))
    assert chunks[0].start == header_end and chunks[-1].end == len(data)
    assert all(before.end == after.start for before, after in zip(chunks, chunks[1:]))
    assert b"".join(chunk_bytes(data, chunk) for chunk in chunks) == data[header_end:]
    assert all(chunk_bytes(data, chunk).endswith(b"\n") for chunk in chunks[:-1])
    assert chunk_bytes(data, chunks[-1]).endswith(b"\n") == data.endswith(b"\n")
    assert [chunk.lines for chunk in chunks] == [line_count(chunk_bytes(data, chunk)) for chunk in chunks]
    assert chunks[0].first_line == 2
    assert all(after.first_line == before.first_line + before.lines for before, after in zip(chunks, chunks[1:]))
    for chunk in chunks[:-1]:  # at least target bytes, cut at the first line end that gets there
        body = chunk_bytes(data, chunk)
        assert len(body) >= target
        assert body[:-1].rfind(b"\n") + 1 < target
    if target > len(data):
        assert len(chunks) == 1


@pytest.mark.parametrize("relative", SMALL_FILES + LARGE_FILES)
@pytest.mark.parametrize("target", TARGETS, ids=lambda t: "whole+1" if t == WHOLE else str(t))
def test_plan_does_not_depend_on_block_size(relative: str, target: int) -> None:
    data = real_bytes(relative)
    spec = spec_for(relative)
    target = target_for(target, data)
    expected = plan_file([data], spec, target)
    for block_size in (4093, 65536):
        assert plan(data, spec, target, block_size) == expected


def every_chunk_cases() -> list:
    """Every chunk parsed on its own: all targets for the small files, the big targets for the large ones
    (a 1-line chunk costs ~2.5 ms to parse, 17,000 of them would not fit the unit-test budget)."""
    cases = [(relative, target) for relative in SMALL_FILES for target in TARGETS]
    cases += [(relative, target) for relative in LARGE_FILES for target in (4096, WHOLE)]
    return [pytest.param(relative, target, id=f"{relative.split('/')[-1]}-target{target or 'whole+1'}")
            for relative, target in cases]


@pytest.mark.parametrize(("relative", "target"), every_chunk_cases())
def test_parsing_every_chunk_gives_the_files_daily_totals(relative: str, target: int) -> None:
    data = real_bytes(relative)
    spec = spec_for(relative)
    expected = reference_daily_totals(reference_readings(data, spec.layout))

    result = plan(data, spec, target_for(target, data), 65536)
    parsed = parse_plan(relative, result.chunks)

    assert sum(chunk.rejected.num_rows for chunk in parsed) == 0
    assert meter_day_totals(combine_partials([partial_daily_totals(chunk.readings) for chunk in parsed])) == expected


@pytest.mark.parametrize("relative", LARGE_FILES)
@pytest.mark.parametrize("target", (1, 7, 100))
def test_small_chunks_of_large_files_hold_exactly_their_lines_readings(relative: str, target: int) -> None:
    """A sample of the thousands of tiny chunks, spread over the whole file, each parsed on its own."""
    data = real_bytes(relative)
    spec = spec_for(relative)
    by_line = {reading.line: reading for reading in reference_readings(data, spec.layout)}

    chunks = plan(data, spec, target, 65536).chunks
    sample = chunks[::len(chunks) // SAMPLED_CHUNKS] + [chunks[-1]]

    for chunk, parsed in zip(sample, parse_plan(relative, sample), strict=True):
        lines = range(chunk.first_line, chunk.first_line + chunk.lines)
        assert reading_tuples(parsed.readings) == ref_tuples([by_line[line] for line in lines])
        assert parsed.rejected.num_rows == 0


def test_chunk_plan_round_trips_through_json() -> None:
    data = real_bytes("gentrack_seed/consumption.csv")
    original = plan(data, spec_for("gentrack_seed/consumption.csv"), 500, 65536)
    assert len(original.chunks) > 1

    document = json.loads(json.dumps(original.to_dict()))

    assert document["chunks"][1] == {"index": 1, "start": original.chunks[1].start, "end": original.chunks[1].end,
                                     "first_line": original.chunks[1].first_line, "lines": original.chunks[1].lines}
    restored = ChunkPlan.from_dict(document)
    assert restored == original
    assert all(isinstance(chunk, Chunk) for chunk in restored.chunks)


MERGE_MARKERS = (b"<<<<<<< HEAD\n", b"=======\n", b">>>>>>> branch\n")

INVALID_FILES = [
    pytest.param(b"", "empty", "", id="empty-no-bytes"),
    pytest.param(b"\n\n", "empty", "", id="empty-blank-lines"),
    pytest.param(b" \t\r\n\n  ", "empty", "", id="empty-whitespace"),
    pytest.param(HEADER, "no_data", "header", id="no_data-header-only"),
    pytest.param(HEADER.rstrip(b"\n"), "no_data", "header", id="no_data-header-without-newline"),
    pytest.param(HEADER + b"\n\n", "no_data", "header", id="no_data-header-and-blank-lines"),
    pytest.param(HEADER + b"  \n\t\r\n \t", "no_data", "header", id="no_data-header-and-whitespace-lines"),
    pytest.param(HEADER + ROW + b"MAC000002,2013-01-01 00:30:00,\xff\xfe\n", "encoding", "line 3",
                 id="encoding-invalid-utf8"),
    pytest.param(HEADER + ROW + ROW2.replace(b"0.241", b"0.\xe924"), "encoding", "line 3", id="encoding-latin1"),
    pytest.param(HEADER + ROW + ROW2.replace(b",", b"\x00,", 1), "binary", "line 3", id="binary-nul-byte"),
    pytest.param(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "binary", "gzip", id="binary-gzip"),
    pytest.param(b"PK\x03\x04\x14\x00\n", "binary", "zip", id="binary-zip"),
    *[pytest.param(HEADER + ROW + marker + ROW2, "merge_conflict", "line 3", id=f"merge_conflict-{marker[:2]!r}")
      for marker in MERGE_MARKERS],
    pytest.param(HEADER + b"<<<<<<< HEAD\n" + ROW + b"=======\n" + ROW2 + b">>>>>>> branch\n", "merge_conflict",
                 "line 2", id="merge_conflict-whole-block"),
    pytest.param(b"meter,time,kwh\n" + ROW, "header_mismatch", "'meter'", id="header_mismatch-names"),
    pytest.param(b"tstp,LCLid,energy(kWh/hh)\n" + ROW, "header_mismatch", "another order",
                 id="header_mismatch-order"),
    pytest.param(b"LCLid,tstp\n" + ROW, "header_mismatch", "energy(kWh/hh)", id="header_mismatch-missing-column"),
    pytest.param(HEADER.replace(b",", b";") + ROW, "header_mismatch", "delimited by ';'",
                 id="header_mismatch-semicolon"),
    pytest.param(HEADER.replace(b",", b"|") + ROW, "header_mismatch", "delimited by '|'", id="header_mismatch-pipe"),
    pytest.param(HEADER + ROW + HEADER + ROW2, "repeated_header", "line 3", id="repeated_header"),
    pytest.param(HEADER + ROW + ROW2 + HEADER.replace(b"\n", b"\r\n") + ROW, "repeated_header", "line 4",
                 id="repeated_header-crlf"),
]


@pytest.mark.parametrize("block_size", (1, 13, 65536))
@pytest.mark.parametrize(("data", "rule", "fragment"), INVALID_FILES)
def test_invalid_files_name_the_rule_and_line(lcl_spec: FeedSpec, data: bytes, rule: str, fragment: str,
                                              block_size: int) -> None:
    error = invalid(data, lcl_spec, block_size)
    assert error.rule == rule
    assert fragment in error.reason


ROW = b"MAC000002,2013-01-01 00:30:00, 0.5 \n"


@pytest.mark.parametrize("data", [
    pytest.param(ROW * 3, id="none"),
    pytest.param(ROW + b"\n" + ROW + b"\n\n" + ROW, id="empty-lines"),
    pytest.param(ROW + b" \t \n" + ROW + b"\t\n" + ROW, id="whitespace-lines"),
    pytest.param(ROW.replace(b"\n", b"\r\n") * 2 + b"\r\n" + ROW, id="crlf-blank-line"),
    pytest.param(b" " + ROW + b"\t" + ROW + ROW, id="rows-starting-with-whitespace-are-not-blank"),
    pytest.param(ROW * 2 + b"  ", id="whitespace-at-the-end"),
])
@pytest.mark.parametrize("block_size", [1, 7, 65536])
def test_data_lines_leave_out_blank_lines_wherever_they_are(lcl_spec: FeedSpec, data: bytes, block_size: int) -> None:
    assert plan(HEADER + data, lcl_spec, 1 << 20, block_size).data_lines == non_blank_lines(data)


def test_blank_lines_only_file_says_so(lcl_spec: FeedSpec) -> None:
    assert "blank" in invalid(b"\n\n", lcl_spec, 65536).reason


@pytest.mark.parametrize("block_size", (65536, PRODUCTION_BLOCK))
def test_line_too_long_without_newline(lcl_spec: FeedSpec, block_size: int) -> None:
    data = HEADER + ROW + b"x" * (file_inspection.MAX_LINE_BYTES + 1)
    error = invalid(data, lcl_spec, block_size)
    assert error.rule == "line_too_long"
    assert "line 3" in error.reason


@pytest.mark.parametrize("block_size", [
    65536,
    pytest.param(PRODUCTION_BLOCK),
])
def test_line_too_long_with_newline(lcl_spec: FeedSpec, block_size: int) -> None:
    data = HEADER + ROW + b"x" * (2 * file_inspection.MAX_LINE_BYTES) + b"\n" + ROW2
    assert outcome(data, lcl_spec, block_size) == "line_too_long"


def test_leading_blank_lines_give_the_same_outcome_for_every_block_size(lcl_spec: FeedSpec) -> None:
    data = b"\n\n" + HEADER + ROW
    outcomes = {block_size: outcome(data, lcl_spec, block_size) for block_size in (1, 13, 65536)}
    assert outcomes[1] == outcomes[13] == outcomes[65536]


@pytest.mark.parametrize(("first_bom", "second_bom"), [
    (False, False),
    (True, True),
    pytest.param(True, False),
    pytest.param(False, True),
])
def test_repeated_header_whatever_its_bom(lcl_spec: FeedSpec, first_bom: bool, second_bom: bool) -> None:
    data = (BOM if first_bom else b"") + HEADER + ROW + (BOM if second_bom else b"") + HEADER + ROW2
    assert outcome(data, lcl_spec, 65536) == "repeated_header"


@pytest.mark.parametrize("block_size", (1, 2, 65536))
def test_header_with_bom_is_accepted(lcl_spec: FeedSpec, block_size: int) -> None:
    data = BOM + HEADER + ROW + ROW2
    result = plan(data, lcl_spec, 1, block_size)
    assert result.header_end == len(BOM + HEADER)
    assert [(c.start, c.end, c.first_line) for c in result.chunks] == [
        (len(BOM + HEADER), len(BOM + HEADER + ROW), 2), (len(BOM + HEADER + ROW), len(data), 3)]
    assert result.data_lines == 2


@pytest.mark.parametrize("block_size", (1, 13, 65536))
def test_crlf_line_endings(lcl_spec: FeedSpec, block_size: int) -> None:
    crlf = (HEADER + ROW + b"\n" + ROW2).replace(b"\n", b"\r\n")
    result = plan(crlf, lcl_spec, 1, block_size)
    assert result.header == LCL_HEADER
    assert result.header_end == len(HEADER) + 1
    assert [chunk_bytes(crlf, c) for c in result.chunks] == [ROW.replace(b"\n", b"\r\n"), b"\r\n",
                                                               ROW2.replace(b"\n", b"\r\n")]
    assert [c.first_line for c in result.chunks] == [2, 3, 4]
    assert result.data_lines == 2
