"""unterminated_quote: a quoted field that runs past the end of its line, as pyarrow (the parser) would read it.

A record is one line. pyarrow lets a quoted field hold a line break, so a quote left open merges lines (losing a
row) and makes the result depend on where chunks are cut. pyarrow itself counts the records of a run of lines
(fast, in C++); a regex that mirrors its quoting checks the run's last line (which pyarrow would read to the end
of the run) and, when pyarrow finds fewer records than lines, names the line.
"""

from __future__ import annotations

import io
import re

import pyarrow as pa
import pyarrow.csv as pa_csv

from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec

NEWLINE = b"\n"


def open_quote_pattern(delimiter: str, quote: str) -> re.Pattern[bytes]:
    """Matches at the start of a line holding the quote that is not a sequence of whole fields.

    Mirrors pyarrow: a quote opens a quoted field only at the start of a field, a doubled quote inside it is a
    literal quote, and after the closing quote the field goes on unquoted up to the next delimiter.
    """
    d, q = re.escape(delimiter.encode()), re.escape(quote.encode())
    quoted = q + rb"(?:[^" + q + rb"\n]|" + q + q + rb")*+" + q + rb"[^" + d + rb"\n]*"
    unquoted = rb"[^" + q + d + rb"\n][^" + d + rb"\n]*"
    field = rb"(?:" + quoted + rb"|" + unquoted + rb"|)"
    whole_fields = field + rb"(?:" + d + field + rb")*\r?$"
    return re.compile(rb"^(?=[^\n]*" + q + rb")(?!" + whole_fields + rb")", re.MULTILINE)


class QuotedLines:
    """Checks runs of whole lines of a feed's file for quoted fields that do not close on their line."""

    def __init__(self, spec: FeedSpec) -> None:
        self._spec = spec
        self._quote = spec.quote.encode() if spec.quote else b""
        self._pattern = open_quote_pattern(spec.delimiter, spec.quote) if spec.quote else None

    def check(self, run: bytes, first_line: int) -> None:
        """The run's lines but its last are checked by pyarrow's count; its last line, with the regex."""
        if self._pattern is None or self._quote not in run:
            return
        lines = run.count(NEWLINE) + (0 if run.endswith(NEWLINE) else 1)
        last_line = run.rfind(NEWLINE, 0, len(run) - 1) + 1
        if self._records(run) == lines and not self._pattern.search(run, last_line):
            return
        opened = self._pattern.search(run)
        where = f"line {first_line + run.count(NEWLINE, 0, opened.start())}" if opened else \
            f"a line from {first_line} to {first_line + lines - 1}"
        raise InvalidFile("unterminated_quote", f"{where} opens a quoted field ({self._quote.decode()}) that does "
                                                "not close on that line; quoted fields may not hold line breaks")

    def _records(self, run: bytes) -> int:
        """The records pyarrow reads from the run, whatever their shape (no field is converted)."""
        misshapen = 0

        def count(row: pa_csv.InvalidRow) -> str:
            nonlocal misshapen
            misshapen += 1
            return "skip"

        names = [str(k) for k in range(self._spec.column_count)]
        table = pa_csv.read_csv(
            io.BytesIO(run),
            read_options=pa_csv.ReadOptions(column_names=names, use_threads=False, block_size=len(run) + 1),
            parse_options=pa_csv.ParseOptions(delimiter=self._spec.delimiter, quote_char=self._spec.quote,
                                              ignore_empty_lines=False, invalid_row_handler=count),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in names},
                                                  include_columns=[]))
        return table.num_rows + misshapen
