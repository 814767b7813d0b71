"""pyarrow's own reading of CSV lines, as the oracle for the quote rule (independent of the rule's regex)."""

from __future__ import annotations

import io

import pyarrow.csv as pa_csv

NEXT_LINE = b"z,z,z\n"


def pyarrow_records(text: bytes, quote: str = '"') -> int:
    """How many records pyarrow reads from text, valid or not: a quote it leaves open swallows the line end."""
    count = 0

    def invalid(row: pa_csv.InvalidRow) -> str:
        nonlocal count
        count += 1
        return "skip"

    table = pa_csv.read_csv(io.BytesIO(text),
                            read_options=pa_csv.ReadOptions(column_names=["a", "b", "c"], use_threads=False),
                            parse_options=pa_csv.ParseOptions(quote_char=quote, ignore_empty_lines=False,
                                                              invalid_row_handler=invalid))
    return table.num_rows + count


def closes_on_its_line(line: bytes) -> bool:
    """pyarrow reads the line and the next as two records: no quoted field runs past the line end."""
    return pyarrow_records(line + b"\n" + NEXT_LINE) == 2
