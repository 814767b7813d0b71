"""The file rules added for hostile input: quotes that stay open, bare carriage returns, misplaced BOMs, headers
that are not CSV. Each is checked through plan_file, the way Validate meets a file."""

from __future__ import annotations

import dataclasses

import pytest

from tasks.domain.chunk_plan import ChunkPlan, plan_file
from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec
from tests.unit.domain.pyarrow_oracle import closes_on_its_line
from tests.unit.domain.support import LCL_HEADER, blocks

HEADER = f"{LCL_HEADER}\n".encode()
ROW = b"MAC000002,2013-01-01 00:00:00, 0.219 \n"
ROW2 = b"MAC000002,2013-01-01 00:30:00, 0.241 \n"
BOM = "\ufeff".encode()


def outcome(data: bytes, spec: FeedSpec, block_size: int = 5) -> ChunkPlan | str:
    try:
        return plan_file(blocks(data, block_size), spec, 16)
    except InvalidFile as error:
        return f"{error.rule}: {error.reason}"


CLOSED_QUOTES = [b'M1,"2013-01-01 00:00:00",0.1', b'M1,"a""b",c', b'M1,a"b,c', b'M1,"a"b"c,d', b'"",x,y',
                 b'M1,"a,b",c', b'M1,2013,"0.1"\r', b'M1,x,y"', b'"a""""",b,c']
OPEN_QUOTES = [b'M1,"2013-01-01 00:00:00,0.1', b'M1,"a""b,c', b'M1,x,"', b'"""', b'M1,"a"",b,c', b'"\r']


@pytest.mark.parametrize("line", CLOSED_QUOTES)
def test_a_line_whose_quotes_close_loads(lcl_spec: FeedSpec, line: bytes) -> None:
    assert closes_on_its_line(line), "pyarrow reads it as one line too"
    assert isinstance(outcome(HEADER + line + b"\n" + ROW, lcl_spec), ChunkPlan)


@pytest.mark.parametrize("line", OPEN_QUOTES)
def test_a_quote_left_open_quarantines_the_file_naming_the_line(lcl_spec: FeedSpec, line: bytes) -> None:
    assert not closes_on_its_line(line), "pyarrow would swallow the next line"
    assert outcome(HEADER + ROW + line + b"\n" + ROW2, lcl_spec).startswith("unterminated_quote: line 3 ")
    assert outcome(HEADER + ROW + line, lcl_spec).startswith("unterminated_quote: line 3 ")


def test_quotes_are_not_checked_for_a_feed_without_quoting(lcl_spec: FeedSpec) -> None:
    unquoted = dataclasses.replace(lcl_spec, quote=None)
    assert isinstance(outcome(HEADER + b'M1,"2013,0.1\n' + ROW, unquoted), ChunkPlan)


@pytest.mark.parametrize(("data", "line"), [
    pytest.param(HEADER + ROW + b"MAC000002,2013-01-01 01:00:00\r,0.1\n" + ROW2, 3, id="inside-a-line"),
    pytest.param((HEADER + ROW + ROW2).replace(b"\n", b"\r"), 1, id="classic-mac-file"),
    pytest.param(HEADER + ROW + ROW2.replace(b"\n", b"\r") + ROW, 3, id="one-cr-line-end"),
])
def test_a_carriage_return_that_does_not_end_a_line_is_refused(lcl_spec: FeedSpec, data: bytes, line: int) -> None:
    assert outcome(data, lcl_spec).startswith(f"line_endings: line {line} ")


def test_crlf_lf_mixtures_and_a_final_bare_cr_load(lcl_spec: FeedSpec) -> None:
    data = HEADER.replace(b"\n", b"\r\n") + ROW + ROW2.replace(b"\n", b"\r\n") + ROW.rstrip(b"\n") + b"\r"
    plan = outcome(data, lcl_spec)
    assert isinstance(plan, ChunkPlan) and plan.data_lines == 3


@pytest.mark.parametrize(("data", "line"), [
    pytest.param(HEADER + ROW + BOM + ROW2, 3, id="line-start"),
    pytest.param(HEADER + ROW.replace(b"0.219", BOM + b"0.219"), 2, id="inside-a-field"),
    pytest.param(BOM + HEADER + BOM + ROW, 2, id="after-a-leading-bom"),
])
def test_a_bom_after_the_start_of_the_file_is_refused(lcl_spec: FeedSpec, data: bytes, line: int) -> None:
    assert outcome(data, lcl_spec).startswith(f"encoding: line {line} holds a byte-order mark")


def test_a_bom_inside_the_header_is_refused(lcl_spec: FeedSpec) -> None:
    assert outcome(HEADER.replace(b",tstp", b"," + BOM + b"tstp") + ROW, lcl_spec).startswith("encoding: line 1 ")


def test_a_header_that_is_not_readable_csv_is_a_header_mismatch(lcl_spec: FeedSpec) -> None:
    """The csv module refuses fields over 128 KiB: that must be a classified error, not a crash."""
    header = b"LCLid,tstp," + b'"' + b"x" * 200_000 + b'"\n'
    assert outcome(header + ROW, lcl_spec, block_size=1 << 20).startswith("header_mismatch: ")


def test_a_headerless_file_may_open_with_a_bom_but_not_hold_one_later(lcl_spec: FeedSpec) -> None:
    headerless = dataclasses.replace(lcl_spec, header=False)
    assert isinstance(outcome(BOM + ROW + ROW2, headerless), ChunkPlan)
    assert outcome(ROW + BOM + ROW2, headerless).startswith("encoding: line 2 ")
    assert outcome(b"\n" + BOM + ROW, headerless).startswith("encoding: line 2 "), "a BOM after a blank line"
