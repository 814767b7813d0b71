"""A chunk of a feed's file to canonical readings plus rejected rows, each with the rule that failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.csv_rows import RawRows, read_rows
from tasks.domain.feed_spec import FeedSpec
from tasks.domain.local_time import intervals_per_day, local_wall_time, to_utc
from tasks.domain.reading_quality import duplicates, spikes
from tasks.domain.reading_schema import KWH_TYPE, REJECTED_SCHEMA, parsed_schema
from tasks.domain.reading_values import describe, to_kwh

MICROS_PER_MINUTE = 60_000_000
DUPLICATES_SCHEMA = pa.schema([("meter_id", pa.string()), ("channel", pa.string()), ("day", pa.string()),
                               ("duplicates", pa.int64())])


@dataclass(frozen=True)
class ParsedChunk:
    readings: pa.Table  # parsed_schema(): the curated columns plus reading_date
    rejected: pa.Table  # REJECTED_SCHEMA: source_line, rule, reason, raw
    blank_lines: int
    duplicates: pa.Table = field(default_factory=DUPLICATES_SCHEMA.empty_table)  # repeats per meter-day


@dataclass(frozen=True)
class _Candidates:
    """One entry per reading the chunk offers (a wide row offers one per interval column)."""

    meter: pa.Array
    channel: pa.Array  # as written in the file, before the feed's channel map
    local: pa.Array  # timestamp[us] wall-clock label, null where the text is not a time
    value_text: pa.Array
    value_column: pa.Array
    time_text: pa.Array
    lines: pa.Array


@dataclass(frozen=True)
class _Placed:
    """Candidates placed in time and checked: the first rule each breaks, and the flags of the rest."""

    channel: pa.Array
    start: pa.Array  # UTC interval start
    reading_date: pa.Array  # local date of the start
    kwh: pa.Array
    rule: pa.Array
    flags: list[tuple[str, pa.Array]]


def _digits(text: pa.Array) -> pa.Array:
    """The text with leading zeros of its numbers removed, to compare dates written with or without padding."""
    return pc.replace_substring_regex(text, r"(^|\D)0+(\d)", r"\1\2")


def _timestamps(text: pa.Array, fmt: str) -> pa.Array:
    """Parsed timestamps, null where the text is not a real time: strptime alone rolls 02-30 over to 03-02.

    Each distinct text is parsed once: a long file repeats every time for each meter."""
    encoded = pc.dictionary_encode(text)
    distinct = encoded.dictionary
    parsed = pc.strptime(distinct, format=fmt, unit="us", error_is_null=True)
    written_back = pc.strftime(pc.cast(parsed, pa.timestamp("s")), format=fmt)  # %S of "us" adds fractions
    real = pc.fill_null(pc.equal(_digits(written_back), _digits(distinct)), False)
    return pc.if_else(real, parsed, pa.nulls(len(parsed), parsed.type)).take(encoded.indices)


def _meters(spec: FeedSpec, rows: RawRows, file_name: str) -> pa.Array:
    if spec.meter_column:
        return rows.fields[spec.meter_column].combine_chunks()
    return pa.repeat(pa.scalar(spec.meter_for_file(file_name) or ""), rows.fields.num_rows)


def _channels(spec: FeedSpec, rows: RawRows) -> pa.Array:
    if spec.channel_column:
        return rows.fields[spec.channel_column].combine_chunks()
    return pa.repeat(pa.scalar(spec.channel), rows.fields.num_rows)


def _long_candidates(spec: FeedSpec, rows: RawRows, file_name: str) -> _Candidates:
    """One candidate per row, or one per value column and row when each value column is a channel."""
    fields = rows.fields
    time_text = fields[spec.timestamp_column].combine_chunks()
    local = _timestamps(time_text, spec.timestamp_format)
    meters = _meters(spec, rows, file_name)
    if not spec.value_channels:
        return _Candidates(meter=meters, channel=_channels(spec, rows), local=local,
                           value_text=fields[spec.value_column].combine_chunks(),
                           value_column=pa.repeat(pa.scalar(spec.value_column), fields.num_rows),
                           time_text=time_text, lines=rows.lines)
    count = len(spec.value_channels)
    return _Candidates(
        meter=pa.concat_arrays([meters] * count), local=pa.concat_arrays([local] * count),
        channel=pa.concat_arrays([pa.repeat(pa.scalar(channel), fields.num_rows) for _, channel in spec.value_channels]),
        value_text=pa.concat_arrays([fields[column].combine_chunks() for column, _ in spec.value_channels]),
        value_column=pa.concat_arrays([pa.repeat(pa.scalar(column), fields.num_rows)
                                       for column, _ in spec.value_channels]),
        time_text=pa.concat_arrays([time_text] * count), lines=pa.concat_arrays([rows.lines] * count))


def _wide_candidates(spec: FeedSpec, rows: RawRows, file_name: str) -> _Candidates:
    """Column k after the date is the interval whose wall-clock start is k intervals after the day's midnight."""
    fields = rows.fields
    day_text = fields[spec.date_column].combine_chunks()
    day = _timestamps(day_text, spec.date_format)
    interval_columns = spec.field_names[spec.first_interval_column:]
    count = len(interval_columns)
    starts = [pc.add(day, pa.scalar(k * spec.interval_minutes * MICROS_PER_MINUTE, pa.duration("us")))
              for k in range(count)]

    def repeat(array: pa.Array) -> pa.Array:
        return pa.concat_arrays([array] * count)

    return _Candidates(
        meter=repeat(_meters(spec, rows, file_name)), channel=repeat(_channels(spec, rows)),
        local=pa.concat_arrays(starts),
        value_text=pa.concat_arrays([fields[name].combine_chunks() for name in interval_columns]),
        value_column=pa.concat_arrays([pa.repeat(pa.scalar(name), fields.num_rows)
                                       for name in spec.columns[spec.first_interval_column:]]),
        time_text=repeat(day_text), lines=repeat(rows.lines))


def _mapped_channels(spec: FeedSpec, written: pa.Array) -> tuple[pa.Array, pa.Array]:
    """(channel, unknown): the feed's channel map applied; without a map every written channel is kept."""
    if not spec.channel_map:
        return written, pa.repeat(pa.scalar(False), len(written))
    names = pa.array([name for name, _ in spec.channel_map], pa.string())
    position = pc.index_in(written, value_set=names)
    mapped = pc.take(pa.array([channel for _, channel in spec.channel_map], pa.string()), position)
    return mapped, pc.is_null(position)


def _first_rule(checks: list[tuple[str, pa.Array]], length: int) -> pa.Array:
    """For each candidate the first rule whose mask is true, in the order given, else null."""
    rule = pa.nulls(length, pa.string())
    for name, broken in reversed(checks):
        rule = pc.if_else(pc.fill_null(broken, False), pa.scalar(name), rule)
    return rule


def _off_grid(local_start: pa.Array, interval_minutes: int) -> pa.Array:
    """True where a start is not a whole number of intervals after its local midnight."""
    micros = pc.cast(local_start, pa.int64())
    grid = pa.scalar(interval_minutes * MICROS_PER_MINUTE, pa.int64())
    return pc.not_equal(pc.subtract(micros, pc.multiply(pc.divide(micros, grid), grid)), pa.scalar(0, pa.int64()))


def _place(spec: FeedSpec, candidates: _Candidates) -> _Placed:
    """Channels mapped, wall-clock labels turned into UTC interval starts, every per-reading rule checked."""
    checks = spec.checks
    channel, unknown_channel = _mapped_channels(spec, candidates.channel)
    occurrence = pc.binary_join_element_wise(candidates.meter, pc.fill_null(channel, ""), "\x1f")
    instants = to_utc(candidates.local, spec.timezone, occurrence, spec.repeated_local_time == "first_is_later")
    start = instants.utc
    if spec.timestamp_marks == "end":
        start = pc.subtract(start, pa.scalar(spec.interval_minutes * MICROS_PER_MINUTE, pa.duration("us")))
    local_start = local_wall_time(start, spec.timezone)
    off_grid = _off_grid(local_start, spec.interval_minutes)
    values = to_kwh(spec, candidates.value_text)
    may_be_negative = pc.is_in(channel, value_set=pa.array(list(checks.negative_channels_allowed), pa.string()))
    negative = pc.and_(values.negative, pc.invert(pc.fill_null(may_be_negative, False)))
    optional = [("negative", negative, checks.negative), ("out_of_range", values.outside_range, checks.out_of_range),
                ("off_grid", off_grid, checks.off_grid)]
    rule = _first_rule([
        ("missing_meter", pc.equal(pc.utf8_length(candidates.meter), 0)),
        ("bad_timestamp", pc.is_null(candidates.local)),
        ("nonexistent_time", instants.nonexistent),
        ("unknown_channel", unknown_channel),
        *[(name, pc.equal(values.rule, pa.scalar(name))) for name in ("missing_value", "non_numeric", "precision",
                                                                      "out_of_range")],
        *[(name, mask) for name, mask, action in optional if action == "reject"],
    ], len(candidates.meter))
    flags = [(name, mask) for name, mask, action in optional if action == "flag"]
    return _Placed(channel=channel, start=start, reading_date=pc.cast(local_start, pa.date32()), kwh=values.kwh,
                   rule=rule, flags=flags)


def _reason(spec: FeedSpec, rule: str, candidates: _Candidates, i: int, file_name: str) -> str:
    time_column = spec.timestamp_column or spec.date_column
    time_text = candidates.time_text[i].as_py()
    if rule == "missing_meter":
        if spec.meter_column:
            return f"{spec.meter_column} is empty"
        return f"the file name {file_name!r} does not match meter.from_file_name {spec.meter_from_file_name!r}"
    if rule == "bad_timestamp":
        fmt = spec.timestamp_format if spec.timestamp_column else spec.date_format
        return f"{time_column} is {time_text!r}, not a time in the format {fmt!r}"
    if rule == "nonexistent_time":
        label = candidates.local[i].as_py()
        return (f"{time_column} is {time_text!r}: {label:%Y-%m-%d %H:%M} does not exist in {spec.timezone} "
                "(the clocks went forward)")
    if rule == "unknown_channel":
        return (f"{spec.channel_column} is {candidates.channel[i].as_py()!r}, not one of "
                f"{[name for name, _ in spec.channel_map]}")
    if rule == "off_grid":
        return f"{time_column} is {time_text!r}: not on the feed's {spec.interval_minutes}-minute grid"
    return describe(rule, candidates.value_column[i].as_py(), candidates.value_text[i].as_py(), spec)


def _source_lines(body: bytes, first_line: int, wanted: set[int]) -> dict[int, str]:
    """The exact text of the wanted lines (for the rejected file), decoded leniently."""
    out = {}
    for offset, raw in enumerate(body.split(b"\n")):
        if offset + first_line in wanted:
            out[offset + first_line] = raw.rstrip(b"\r").decode("utf-8", errors="replace")
    return out


def _rejected(spec: FeedSpec, body: bytes, first_line: int, rows: RawRows, candidates: _Candidates,
              rule: pa.Array, given_reasons: dict[int, str], file_name: str) -> pa.Table:
    records = [(line, "column_count", f"{count} fields, feed {spec.name} has {spec.column_count} columns", text)
               for line, count, text in rows.misshapen]
    indexes = pc.indices_nonzero(pc.is_valid(rule)).to_pylist()
    texts = _source_lines(body, first_line, {candidates.lines[i].as_py() for i in indexes}) if indexes else {}
    for i in indexes:
        line, name = candidates.lines[i].as_py(), rule[i].as_py()
        reason = given_reasons.get(i) or _reason(spec, name, candidates, i, file_name)
        records.append((line, name, reason, texts.get(line, "")))
    records.sort(key=lambda record: record[0])
    return pa.table([pa.array([r[k] for r in records], field.type) for k, field in enumerate(REJECTED_SCHEMA)],
                    schema=REJECTED_SCHEMA)


def _with_duplicates(candidates: _Candidates, placed: _Placed) -> tuple[pa.Array, dict[int, str], pa.Table]:
    """The rules with repeated intervals added, their reasons, and the repeats counted per meter-day."""
    good = pc.indices_nonzero(pc.is_null(placed.rule))
    keys = pa.table({"meter_id": candidates.meter.take(good), "channel": placed.channel.take(good),
                     "interval_start": placed.start.take(good)})
    found = duplicates(keys, placed.kwh.take(good), candidates.lines.take(good))
    if not found:
        return placed.rule, {}, DUPLICATES_SCHEMA.empty_table()
    positions = good.take(pa.array([d.index for d in found], pa.int64()))
    rules = placed.rule.to_pylist()
    reasons = {}
    for position, duplicate in zip(positions.to_pylist(), found):
        rules[position], reasons[position] = duplicate.rule, duplicate.reason
    repeats = pa.table({"meter_id": candidates.meter.take(positions), "channel": placed.channel.take(positions),
                        "day": pc.cast(placed.reading_date.take(positions), pa.string()),
                        "duplicates": pa.repeat(pa.scalar(1, pa.int64()), len(positions))})
    per_day = repeats.group_by(["meter_id", "channel", "day"]).aggregate([("duplicates", "sum")])
    return (pa.array(rules, pa.string()), reasons,
            per_day.rename_columns(["meter_id", "channel", "day", "duplicates"]).cast(DUPLICATES_SCHEMA))


def _anomalies(flags: list[tuple[str, pa.Array]], length: int) -> pa.Array:
    """Comma-separated names of the flags each reading raised, null for a clean reading."""
    anomalies = pa.nulls(length, pa.string())
    for name, mask in flags:
        joined = pc.if_else(pc.is_null(anomalies), pa.scalar(name), pc.binary_join_element_wise(
            anomalies, pa.scalar(name), pa.scalar(",")))
        anomalies = pc.if_else(pc.fill_null(mask, False), joined, anomalies)
    return anomalies


def parse_chunk(spec: FeedSpec, body: bytes, first_line: int, file_id: str, ingested_at: datetime,
                file_name: str = "") -> ParsedChunk:
    """Parse whole lines; first_line is the file's line number of the body's first line."""
    rows = read_rows(spec, body, first_line)
    candidates = (_long_candidates if spec.layout == "long" else _wide_candidates)(spec, rows, file_name)
    placed = _place(spec, candidates)
    rule, reasons, repeats = _with_duplicates(candidates, placed)
    good = pc.is_null(rule)
    meters, channels, kwh = candidates.meter.filter(good), placed.channel.filter(good), placed.kwh.filter(good)
    flags = [(name, mask.filter(good)) for name, mask in placed.flags]
    if spec.checks.spike_factor is not None:
        flags.append(("spike", spikes(meters, channels, kwh, spec.checks.spike_factor)))
    start, reading_date = placed.start.filter(good), placed.reading_date.filter(good)
    count = len(start)
    readings = pa.table({
        "meter_id": meters,
        "channel": channels,
        "interval_start": start,
        "interval_minutes": pa.repeat(pa.scalar(spec.interval_minutes, pa.int32()), count),
        "day_intervals": intervals_per_day(reading_date, spec.timezone, spec.interval_minutes),
        "kwh": kwh.cast(KWH_TYPE),
        "quality": pa.repeat(pa.scalar(spec.quality), count),
        "anomalies": _anomalies(flags, count),
        "source_line": candidates.lines.filter(good),
        "file_id": pa.repeat(pa.scalar(file_id), count),
        "ingested_at": pa.repeat(pa.scalar(ingested_at, pa.timestamp("us")), count),
        "reading_date": reading_date,
    }, schema=parsed_schema())
    return ParsedChunk(readings=readings,
                       rejected=_rejected(spec, body, first_line, rows, candidates, rule, reasons, file_name),
                       blank_lines=rows.blank_lines, duplicates=repeats)
