"""Chunk planning: one streaming pass that checks the file and cuts it into byte ranges on line ends."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from tasks.domain import lake_layout
from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec
from tasks.domain.file_inspection import NEWLINE, ContentInspector, check_header

BLANK_LINE = re.compile(rb"^[ \t\r]*\n", re.MULTILINE)
BLANK_LINE_STARTS = (b" ", b"\t", b"\r", b"\n")
BLANK_LINE_STARTS_AFTER_NEWLINE = tuple(NEWLINE + start for start in BLANK_LINE_STARTS)


@dataclass(frozen=True)
class Chunk:
    """Bytes [start, end) of the file: whole lines only, the first of them line number first_line (1-based)."""

    index: int
    start: int
    end: int
    first_line: int
    lines: int


@dataclass(frozen=True)
class ChunkPlan:
    header_end: int
    header: str
    chunks: list[Chunk] = field(default_factory=list)
    total_bytes: int = 0
    data_lines: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ChunkPlan:
        return cls(**{**data, "chunks": [Chunk(**chunk) for chunk in data["chunks"]]})

    def items(self) -> list[dict[str, int]]:
        """One Map item per chunk: what Transform Chunk needs to read its byte range."""
        return [{"index": c.index, "start": c.start, "end": c.end, "first_line": c.first_line} for c in self.chunks]


def chunk_items_key(file_id: str) -> str:
    """The plan's Map items as a JSON array: the Distributed Map's ItemReader reads it (InputType JSON)."""
    return f"{lake_layout.work_prefix(file_id)}chunk-items.json"


def chunk_result_key(file_id: str, chunk_index: int) -> str:
    """What one Transform Chunk returned (its counts), for an Aggregate that does not get the Map's output."""
    return f"{lake_layout.work_prefix(file_id)}results/chunk-{chunk_index:05d}.json"


def _line_runs(blocks: Iterable[bytes]) -> Iterator[tuple[bytes, bool]]:
    """Re-cut arbitrary blocks into runs of whole lines; the last run may lack its newline (final=True)."""
    pending = b""
    line = 1
    for block in blocks:
        pending += block
        cut = pending.rfind(NEWLINE) + 1
        if cut:
            run, pending = pending[:cut], pending[cut:]
            ContentInspector.longest_line(run, line)
            line += run.count(NEWLINE)
            yield run, False
        ContentInspector.line_length(pending, line)
    yield pending, True


def _blank_lines(run: bytes) -> int:
    """How many whole blank (or whitespace-only) lines a run of lines holds."""
    if run[:1] not in BLANK_LINE_STARTS and not any(start in run for start in BLANK_LINE_STARTS_AFTER_NEWLINE):
        return 0  # byte searches rule blank lines out; the regex is only run on files that may have some
    return len(BLANK_LINE.findall(run))


def _leading_blank_bytes(run: bytes) -> int:
    """How many bytes of whole blank lines the run starts with."""
    first = len(run) - len(run.lstrip(b" \t\r\n"))
    return run.rfind(NEWLINE, 0, first) + 1


class _Planner:
    """Cuts the data lines into chunks of at least target bytes, ending each at a line end."""

    def __init__(self, start: int, target: int, first_line: int) -> None:
        self.target = max(1, target)
        self.chunks: list[Chunk] = []
        self._start = start
        self._first_line = first_line
        self._lines = 0

    def add(self, run: bytes, offset: int, first_line: int) -> None:
        """Take a run of whole lines that begins at byte offset (the file's) and line number first_line."""
        position, line = 0, first_line
        while position < len(run):
            newline = run.find(NEWLINE, max(position, self._start + self.target - offset - 1))
            if newline < 0:
                self._lines += run.count(NEWLINE, position) + (0 if run.endswith(NEWLINE) else 1)
                return
            lines = run.count(NEWLINE, position, newline + 1)
            self._lines, line, position = self._lines + lines, line + lines, newline + 1
            self.chunks.append(Chunk(len(self.chunks), self._start, offset + position, self._first_line, self._lines))
            self._start, self._first_line, self._lines = offset + position, line, 0

    def finish(self, end: int) -> list[Chunk]:
        if end > self._start:
            self.chunks.append(Chunk(len(self.chunks), self._start, end, self._first_line, self._lines))
        return self.chunks


def plan_file(blocks: Iterable[bytes], spec: FeedSpec, target_chunk_bytes: int) -> ChunkPlan:
    """Check the whole file and plan its chunks; InvalidFile names the rule and the line that broke it."""
    runs = _line_runs(blocks)
    offset, line, data_lines = 0, 1, 0
    header_line = b""
    blank_lines_first = False
    inspector: ContentInspector | None = None
    planner: _Planner | None = None
    for run, final in runs:
        if inspector is None:
            lead = _leading_blank_bytes(run)
            blank_lines_first = blank_lines_first or lead > 0
            offset, line, run = offset + lead, line + run.count(NEWLINE, 0, lead), run[lead:]
            if not run.strip():
                if final:
                    raise InvalidFile("empty", "the file holds only blank lines" if blank_lines_first or run
                                      else "the file is empty")
                continue
            ContentInspector.first_bytes(run)
            if spec.header:
                header_end = run.find(NEWLINE) + 1 or len(run)
                header_line = run[:header_end]
                ContentInspector(spec, None).lines(header_line, line, final=True, opens_file=True)
                check_header(header_line.decode(spec.encoding, errors="replace"), spec)
                offset, line, run = offset + header_end, line + 1, run[header_end:]
            inspector = ContentInspector(spec, header_line if spec.header else None)
            planner = _Planner(offset, target_chunk_bytes, line)
            inspector.lines(run, line, final, opens_file=offset == 0)
        else:
            inspector.lines(run, line, final)
        data_lines += run.count(NEWLINE) + (1 if final and run else 0) - _blank_lines(run)
        if final and run and not run.strip():
            data_lines -= 1
        planner.add(run, offset, line)
        offset, line = offset + len(run), line + run.count(NEWLINE)
    if planner is None:
        raise InvalidFile("empty", "the file is empty")
    if data_lines <= 0:
        raise InvalidFile("no_data", "the file has a header but no data rows" if spec.header
                          else "the file has no data rows")
    chunks = planner.finish(offset)
    return ChunkPlan(header_end=chunks[0].start, header=header_line.decode(spec.encoding, errors="replace").strip(),
                     chunks=chunks, total_bytes=offset, data_lines=data_lines)
