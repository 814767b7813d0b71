"""Whole-file checks made while the file streams past once: the rules that quarantine a file."""

from __future__ import annotations

import codecs
import csv
import re

import numpy as np

from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec
from tasks.domain.quoted_lines import QuotedLines

MARKER_RUNS = (b"<<<<<<<", b"=======", b">>>>>>>")  # a byte search finds none in most files; the regex is slower
MERGE_MARKER = re.compile(rb"^(?:<<<<<<<(?: |\r?$)|=======\r?$|>>>>>>>(?: |\r?$))", re.MULTILINE)
COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"BZh": "bzip2", b"\xfd7zXZ": "xz"}
MAX_LINE_BYTES = 1 << 20
BOM = "\ufeff"
NEWLINE = b"\n"
LINE_FEED = "\n"
UTF8_BOM = BOM.encode("utf-8")
OTHER_DELIMITERS = (";", "\t", "|", ",")
BARE_CARRIAGE_RETURN = re.compile(rb"\r(?!\n)")


def header_fields(line: str, spec: FeedSpec, delimiter: str | None = None) -> list[str]:
    """The header's column names, with a leading BOM and surrounding blanks removed."""
    reader = csv.reader([line.lstrip(BOM).rstrip("\r\n")], delimiter=delimiter or spec.delimiter,
                        quotechar=spec.quote or '"', quoting=csv.QUOTE_MINIMAL if spec.quote else csv.QUOTE_NONE)
    try:
        return [field.strip() for field in next(reader, [])]
    except csv.Error as error:
        raise InvalidFile("header_mismatch", f"the header line cannot be read as {spec.name}'s CSV: {error}") from error


def check_header(line: str, spec: FeedSpec) -> None:
    """header_mismatch, naming the expected and found columns (and a wrong delimiter when that is why)."""
    found = header_fields(line, spec)
    if found == list(spec.columns):
        return
    for delimiter in OTHER_DELIMITERS:
        if delimiter != spec.delimiter and header_fields(line, spec, delimiter) == list(spec.columns):
            raise InvalidFile("header_mismatch", f"the columns are delimited by {delimiter!r}, "
                                                 f"feed {spec.name} expects {spec.delimiter!r}")
    missing = [column for column in spec.columns if column not in found]
    extra = [column for column in found if column not in spec.columns]
    detail = f"missing {missing}" if missing else "same names in another order"
    raise InvalidFile("header_mismatch", f"feed {spec.name} expects columns {list(spec.columns)}, the file has "
                                         f"{found} ({detail}{f', unexpected {extra}' if extra else ''})")


class ContentInspector:
    """Fed the file's complete lines in order; raises InvalidFile at the first line that breaks a rule."""

    def __init__(self, spec: FeedSpec, header_line: bytes | None) -> None:
        self._decoder = codecs.getincrementaldecoder(spec.encoding)(errors="strict")
        self._encoding = spec.encoding
        self._quoted_lines = QuotedLines(spec)
        bare = header_line.removeprefix(UTF8_BOM).rstrip(b"\r\n") if header_line else b""
        self._bare_header = bare
        self._header = (re.compile(rb"^(?:" + re.escape(UTF8_BOM) + rb")?" + re.escape(bare) + rb"\r?$", re.MULTILINE)
                        if bare else None)

    @staticmethod
    def first_bytes(head: bytes) -> None:
        """binary for compressed text (gzip reaches here only when compressed twice: Validate inflates once)."""
        for magic, kind in COMPRESSED_MAGIC.items():
            if head.startswith(magic):
                raise InvalidFile("binary", f"the text is {kind}-compressed; send it plain or gzip-compressed once")

    def lines(self, portion: bytes, first_line: int, final: bool = False, opens_file: bool = False) -> None:
        """Check a run of whole lines starting at line number first_line (1-based); opens_file: a BOM may lead."""
        nul = portion.find(b"\x00")
        if nul >= 0:
            raise InvalidFile("binary", f"a NUL byte on line {first_line + portion.count(NEWLINE, 0, nul)}: "
                                        "this is not a text file")
        try:
            text = self._decoder.decode(portion, final)
        except UnicodeDecodeError as error:
            line = first_line + portion.count(NEWLINE, 0, max(error.start, 0))
            raise InvalidFile("encoding", f"line {line} is not valid {self._encoding}: {error.reason} "
                                          f"at byte {error.start} of the line block") from error
        marker = MERGE_MARKER.search(portion) if any(run in portion for run in MARKER_RUNS) else None
        if marker:
            line = first_line + portion.count(NEWLINE, 0, marker.start())
            raise InvalidFile("merge_conflict", f"line {line} is a git merge-conflict marker "
                                                f"({marker.group().strip().decode()!r}): the file holds "
                                                "unresolved versions of its data")
        if self._header is not None and self._bare_header in portion:
            repeated = self._header.search(portion)
            if repeated:
                line = first_line + portion.count(NEWLINE, 0, repeated.start())
                raise InvalidFile("repeated_header", f"line {line} repeats the header: two files were "
                                                     "concatenated")
        self._byte_order_mark(text, first_line, opens_file)
        self._line_ends(portion, first_line, final)
        self._quoted_lines.check(portion, first_line)

    @staticmethod
    def _byte_order_mark(text: str, first_line: int, opens_file: bool) -> None:
        """A BOM is only accepted as the first character of the file: elsewhere it would end up in a field."""
        found = text.find(BOM, 1 if opens_file else 0)
        if found >= 0:
            raise InvalidFile("encoding", f"line {first_line + text.count(LINE_FEED, 0, found)} holds a byte-order "
                                          "mark (U+FEFF) after the start of the file: files were joined or "
                                          "re-encoded")

    @staticmethod
    def _line_ends(portion: bytes, first_line: int, final: bool) -> None:
        """A carriage return must end a line (CRLF) or the file: a bare CR would split a line in two when parsed."""
        carriage_returns = portion.count(b"\r")
        if not carriage_returns or carriage_returns == portion.count(b"\r\n"):
            return
        bare = BARE_CARRIAGE_RETURN.search(portion)
        if bare and not (final and bare.start() == len(portion) - 1):
            raise InvalidFile("line_endings", f"line {first_line + portion.count(NEWLINE, 0, bare.start())} holds a "
                                              "carriage return that does not end the line (old Mac CR line "
                                              "endings?): lines must end with LF or CRLF")

    @staticmethod
    def longest_line(run: bytes, first_line: int) -> None:
        """line_too_long for any whole line of the run over the limit."""
        if len(run) <= MAX_LINE_BYTES:
            return
        ends = np.flatnonzero(np.frombuffer(run, dtype=np.uint8) == NEWLINE[0])
        lengths = np.diff(ends, prepend=-1)
        longest = int(np.argmax(lengths))
        if lengths[longest] > MAX_LINE_BYTES:
            raise InvalidFile("line_too_long", f"line {first_line + longest} is longer than {MAX_LINE_BYTES} bytes")

    @staticmethod
    def line_length(pending: bytes, line: int) -> None:
        if len(pending) > MAX_LINE_BYTES:
            raise InvalidFile("line_too_long", f"line {line} is longer than {MAX_LINE_BYTES} bytes")
