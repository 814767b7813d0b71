"""A chunk of a feed's file to canonical readings plus rejected rows, each with the rule that failed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.csv_rows import RawRows, read_rows
from tasks.domain.feed_spec import FeedSpec
from tasks.domain.reading_schema import KWH_TYPE, REJECTED_SCHEMA, parsed_schema
from tasks.domain.reading_values import describe, to_kwh

MICROS_PER_MINUTE = 60_000_000


@dataclass(frozen=True)
class ParsedChunk:
    readings: pa.Table  # parsed_schema(): the curated columns plus reading_date
    rejected: pa.Table  # REJECTED_SCHEMA: source_line, rule, reason, raw
    blank_lines: int


@dataclass(frozen=True)
class _Candidates:
    """One entry per reading the chunk offers (a wide row offers one per interval column)."""

    meter: pa.Array
    channel: pa.Array
    start: pa.Array  # timestamp[us], null where the timestamp did not parse
    value_text: pa.Array
    value_column: pa.Array
    time_text: pa.Array
    lines: pa.Array


def _digits(text: pa.Array) -> pa.Array:
    """The text with leading zeros of its numbers removed, to compare dates written with or without padding."""
    return pc.replace_substring_regex(text, r"(^|\D)0+(\d)", r"\1\2")


def _timestamps(text: pa.Array, fmt: str) -> pa.Array:
    """Parsed timestamps, null where the text is not a real time: strptime alone rolls 02-30 over to 03-02."""
    parsed = pc.strptime(text, format=fmt, unit="us", error_is_null=True)
    written_back = pc.strftime(pc.cast(parsed, pa.timestamp("s")), format=fmt)  # %S of "us" adds fractions
    real = pc.fill_null(pc.equal(_digits(written_back), _digits(text)), False)
    return pc.if_else(real, parsed, pa.nulls(len(parsed), parsed.type))


def _channel(spec: FeedSpec, rows: RawRows) -> pa.Array:
    if spec.channel_column:
        return rows.fields[spec.channel_column].combine_chunks()
    return pa.repeat(pa.scalar(spec.channel), rows.fields.num_rows)


def _long_candidates(spec: FeedSpec, rows: RawRows) -> _Candidates:
    fields = rows.fields
    time_text = fields[spec.timestamp_column].combine_chunks()
    start = _timestamps(time_text, spec.timestamp_format)
    if spec.timestamp_marks == "end":
        start = pc.subtract(start, pa.scalar(spec.interval_minutes * MICROS_PER_MINUTE, pa.duration("us")))
    return _Candidates(meter=fields[spec.meter_column].combine_chunks(), channel=_channel(spec, rows), start=start,
                       value_text=fields[spec.value_column].combine_chunks(),
                       value_column=pa.repeat(pa.scalar(spec.value_column), fields.num_rows),
                       time_text=time_text, lines=rows.lines)


def _wide_candidates(spec: FeedSpec, rows: RawRows) -> _Candidates:
    """Column k after the date is the interval starting k intervals after the day's midnight."""
    fields = rows.fields
    day_text = fields[spec.date_column].combine_chunks()
    day = _timestamps(day_text, spec.date_format)
    interval_columns = spec.columns[spec.first_interval_column:]
    count = len(interval_columns)
    starts = [pc.add(day, pa.scalar(k * spec.interval_minutes * MICROS_PER_MINUTE, pa.duration("us")))
              for k in range(count)]

    def repeat(array: pa.Array) -> pa.Array:
        return pa.concat_arrays([array] * count)

    return _Candidates(
        meter=repeat(fields[spec.meter_column].combine_chunks()), channel=repeat(_channel(spec, rows)),
        start=pa.concat_arrays(starts),
        value_text=pa.concat_arrays([fields[name].combine_chunks() for name in interval_columns]),
        value_column=pa.concat_arrays([pa.repeat(pa.scalar(name), fields.num_rows) for name in interval_columns]),
        time_text=repeat(day_text), lines=repeat(rows.lines))


def _reading_rules(spec: FeedSpec, candidates: _Candidates) -> tuple[pa.Array, pa.Array]:
    """(kWh, rule): the first rule each candidate breaks, null for a good reading."""
    values = to_kwh(spec, candidates.value_text)
    rule = values.rule
    rule = pc.if_else(pc.is_null(candidates.start), pa.scalar("bad_timestamp"), rule)
    rule = pc.if_else(pc.equal(pc.utf8_length(candidates.meter), 0), pa.scalar("missing_meter"), rule)
    return values.kwh, rule


def _reason(spec: FeedSpec, rule: str, candidates: _Candidates, i: int) -> str:
    if rule == "missing_meter":
        return f"{spec.meter_column} is empty"
    if rule == "bad_timestamp":
        column = spec.timestamp_column or spec.date_column
        fmt = spec.timestamp_format if spec.timestamp_column else spec.date_format
        return f"{column} is {candidates.time_text[i].as_py()!r}, not a time in the format {fmt!r}"
    return describe(rule, candidates.value_column[i].as_py(), candidates.value_text[i].as_py(), spec)


def _source_lines(body: bytes, first_line: int, wanted: set[int]) -> dict[int, str]:
    """The exact text of the wanted lines (for the rejected file), decoded leniently."""
    out = {}
    for offset, raw in enumerate(body.split(b"\n")):
        if offset + first_line in wanted:
            out[offset + first_line] = raw.rstrip(b"\r").decode("utf-8", errors="replace")
    return out


def _rejected(spec: FeedSpec, body: bytes, first_line: int, rows: RawRows, candidates: _Candidates,
              rule: pa.Array) -> pa.Table:
    bad = pc.is_valid(rule)
    records = [(line, "column_count", f"{count} fields, feed {spec.name} has {spec.column_count} columns", text)
               for line, count, text in rows.misshapen]
    indexes = pc.indices_nonzero(bad).to_pylist()
    texts = _source_lines(body, first_line, {candidates.lines[i].as_py() for i in indexes}) if indexes else {}
    for i in indexes:
        line, name = candidates.lines[i].as_py(), rule[i].as_py()
        records.append((line, name, _reason(spec, name, candidates, i), texts.get(line, "")))
    records.sort(key=lambda record: record[0])
    return pa.table([pa.array([r[k] for r in records], field.type) for k, field in enumerate(REJECTED_SCHEMA)],
                    schema=REJECTED_SCHEMA)


def parse_chunk(spec: FeedSpec, body: bytes, first_line: int, file_id: str, ingested_at: datetime) -> ParsedChunk:
    """Parse whole lines; first_line is the file's line number of the body's first line."""
    rows = read_rows(spec, body, first_line)
    candidates = (_long_candidates if spec.layout == "long" else _wide_candidates)(spec, rows)
    kwh, rule = _reading_rules(spec, candidates)
    good = pc.is_null(rule)
    start = candidates.start.filter(good)
    count = len(start)
    readings = pa.table({
        "meter_id": candidates.meter.filter(good),
        "channel": candidates.channel.filter(good),
        "interval_start": start,
        "interval_minutes": pa.repeat(pa.scalar(spec.interval_minutes, pa.int32()), count),
        "kwh": kwh.filter(good).cast(KWH_TYPE),
        "quality": pa.repeat(pa.scalar(spec.quality), count),
        "anomalies": pa.nulls(count, pa.string()),
        "source_line": candidates.lines.filter(good),
        "file_id": pa.repeat(pa.scalar(file_id), count),
        "ingested_at": pa.repeat(pa.scalar(ingested_at, pa.timestamp("us")), count),
        "reading_date": pc.cast(start, pa.date32()),
    }, schema=parsed_schema())
    return ParsedChunk(readings=readings, rejected=_rejected(spec, body, first_line, rows, candidates, rule),
                       blank_lines=rows.blank_lines)
