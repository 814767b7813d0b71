"""A chunk's lines as rows of text fields, each with its line number; rows of the wrong shape set aside."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from tasks.domain.feed_spec import FeedSpec


@dataclass(frozen=True)
class RawRows:
    fields: pa.Table  # one string column per spec column, fields stripped of surrounding blanks
    lines: pa.Array  # int64: the source line of each row
    misshapen: list[tuple[int, int, str]]  # (line, field count, text) of rows with the wrong number of fields
    blank_lines: int


def read_rows(spec: FeedSpec, body: bytes, first_line: int) -> RawRows:
    """Parse with pyarrow, every field as text; one record per line (quoted fields may not hold newlines)."""
    skipped: list[int] = []
    misshapen: list[tuple[int, int, str]] = []

    def invalid(row: pa_csv.InvalidRow) -> str:
        skipped.append(row.number)
        if row.text.strip():
            misshapen.append((row.number + first_line - 1, row.actual_columns, row.text))
        return "skip"

    names = list(spec.field_names)
    table = pa_csv.read_csv(
        io.BytesIO(body),
        read_options=pa_csv.ReadOptions(column_names=names, use_threads=False, encoding=spec.encoding,
                                        block_size=max(1 << 20, min(len(body) + 1, 1 << 28))),
        parse_options=pa_csv.ParseOptions(delimiter=spec.delimiter, quote_char=spec.quote or False,
                                          ignore_empty_lines=False, invalid_row_handler=invalid),
        convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in names},
                                              strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    table = pa.table({name: pc.utf8_trim_whitespace(table[name]) for name in names})
    if first_line == 1 and not spec.header:
        first = names[0]  # a headerless file may open with a byte-order mark, glued to its first field
        table = table.set_column(0, first, pc.replace_substring_regex(table[first], "^\ufeff", ""))
    lines = pa.array(_kept_row_numbers(table.num_rows, skipped) + (first_line - 1), pa.int64())
    blank = len(skipped) - len(misshapen)
    empty = _all_empty(table)
    if empty is not None:
        keep = pc.invert(empty)
        blank += table.num_rows - pc.sum(keep).as_py()
        table, lines = table.filter(keep), lines.filter(keep)
    return RawRows(fields=table, lines=lines, misshapen=misshapen, blank_lines=blank)


def _kept_row_numbers(kept: int, skipped: list[int]) -> np.ndarray:
    """The 1-based physical row numbers of the rows pyarrow kept, in order."""
    keep = np.ones(kept + len(skipped) + 1, dtype=bool)
    keep[0] = False
    keep[np.array(skipped, dtype=np.int64)] = False
    return np.flatnonzero(keep).astype(np.int64)


def _all_empty(table: pa.Table) -> pa.Array | None:
    """True for rows whose every field is empty (a blank line); None when no row is."""
    if table.num_rows == 0:
        return None
    empty = pc.equal(pc.utf8_length(table.column(0).combine_chunks()), 0)
    for column in table.columns[1:]:
        empty = pc.and_(empty, pc.equal(pc.utf8_length(column.combine_chunks()), 0))
    return empty if pc.any(empty).as_py() else None
