"""Daily totals: per chunk, combined per file, and rolled up per feed-day. Exact decimal sums."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.reading_schema import KWH_TYPE

TOTAL_KWH = pa.decimal128(38, KWH_TYPE.scale)
# readings: loaded; anomalies: loaded with a data-quality flag; duplicates: repeats of an interval the file
# already gave (dropped or rejected); expected: the intervals of that local day (46, 48 or 50 half-hours).
METER_DAY_SCHEMA = pa.schema([("meter_id", pa.string()), ("channel", pa.string()), ("day", pa.string()),
                              ("kwh", TOTAL_KWH), ("readings", pa.int64()), ("anomalies", pa.int64()),
                              ("duplicates", pa.int64()), ("expected", pa.int64())])
FEED_DAY_SCHEMA = pa.schema([("channel", pa.string()), ("day", pa.string()), ("kwh", TOTAL_KWH),
                             ("readings", pa.int64()), ("anomalies", pa.int64()), ("duplicates", pa.int64()),
                             ("meters", pa.int64()), ("expected", pa.int64())])
_ORDER = [("meter_id", "ascending"), ("channel", "ascending"), ("day", "ascending")]
_SUMMED = ["kwh", "readings", "anomalies", "duplicates"]


# A partial also says which parts of the day its readings fall in: bit i of `slots` is set when a reading starts in
# the i-th of SLOT_COUNT equal parts of the UTC day (about 23 minutes), so two chunks' readings of a meter-day can
# only share an interval when their slots overlap (tasks.domain.supersession.possibly_repeated). Intervals shorter
# than a slot share one: the meter-day gets every bit, "maybe", and is read back to be sure.
SLOT_COUNT = 63
ALL_SLOTS = (1 << SLOT_COUNT) - 1
PARTIAL_SCHEMA = METER_DAY_SCHEMA.append(pa.field("slots", pa.int64()))
_MICROS_A_MINUTE = 60_000_000
_MINUTES_A_DAY = 1440


def _slot_of(interval_start: pa.ChunkedArray | pa.Array) -> pa.Array:
    minutes = pc.divide(pc.cast(pc.cast(interval_start, pa.timestamp("us")), pa.int64()), _MICROS_A_MINUTE)
    return pc.divide(pc.multiply(pc.subtract(minutes, pc.multiply(pc.divide(minutes, _MINUTES_A_DAY),
                                                                  _MINUTES_A_DAY)), SLOT_COUNT), _MINUTES_A_DAY)


def partial_daily_totals(readings: pa.Table, duplicates: pa.Table | None = None) -> pa.Table:
    """One chunk's readings summed per meter, channel and reading_date (the feed's local day), with the
    chunk's repeated intervals (meter_id, channel, day, duplicates) counted on their days, and the slots of the
    day its readings start in (PARTIAL_SCHEMA)."""
    count = readings.num_rows
    slot = _slot_of(readings["interval_start"]) if count else pa.array([], pa.int64())
    table = pa.table({
        "meter_id": readings["meter_id"], "channel": readings["channel"],
        "day": pc.cast(readings["reading_date"], pa.string()),
        "kwh": pc.cast(readings["kwh"], TOTAL_KWH),
        "readings": pa.repeat(pa.scalar(1, pa.int64()), count),
        "anomalies": pc.cast(pc.is_valid(readings["anomalies"]), pa.int64()),
        "duplicates": pa.repeat(pa.scalar(0, pa.int64()), count),
        "expected": pc.cast(readings["day_intervals"], pa.int64()),
        "slot": slot, "bit": pc.shift_left(pa.scalar(1, pa.int64()), slot),
    })
    if duplicates is not None and duplicates.num_rows:
        repeats = duplicates.num_rows
        zeros = pa.repeat(pa.scalar(0, pa.int64()), repeats)
        nulls = pa.nulls(repeats, pa.int64())
        table = pa.concat_tables([table, pa.table({
            **{key: duplicates[key] for key in ("meter_id", "channel", "day")},
            "kwh": pa.repeat(pa.scalar(0, TOTAL_KWH), repeats), "readings": zeros, "anomalies": zeros,
            "duplicates": duplicates["duplicates"], "expected": zeros, "slot": nulls, "bit": nulls},
            schema=table.schema)])
    keys = ["meter_id", "channel", "day"]
    grouped = _grouped(table, keys, [("bit", "sum"), ("slot", "count"), ("slot", "count_distinct")])
    # Bits summed are the bits or-ed only when no two readings of the meter-day share a slot.
    distinct = pc.equal(grouped["slot_count"], grouped["slot_count_distinct"])
    slots = pc.if_else(distinct, pc.fill_null(grouped["bit_sum"], 0), pa.scalar(ALL_SLOTS, pa.int64()))
    result = pa.table({**_totals_columns(grouped, keys), "slots": slots})
    return result.cast(PARTIAL_SCHEMA).sort_by(_ORDER)


def combine_partials(partials: list[pa.Table]) -> pa.Table:
    """The file's meter-day totals from its chunks' partials (a meter-day may span chunks)."""
    if not partials:
        return METER_DAY_SCHEMA.empty_table()
    return _sum_by(pa.concat_tables([p.select(METER_DAY_SCHEMA.names).cast(METER_DAY_SCHEMA) for p in partials]),
                   ["meter_id", "channel", "day"], METER_DAY_SCHEMA)


def feed_day_totals(meter_day: pa.Table) -> pa.Table:
    """Per channel and day over all the file's meters, with how many meters reported."""
    keys = ["channel", "day"]
    grouped = _grouped(meter_day, keys, [("meter_id", "count_distinct")])
    table = pa.table({**_totals_columns(grouped, keys), "meters": grouped["meter_id_count_distinct"]})
    ordered = [("channel", "ascending"), ("day", "ascending")]
    return table.select(FEED_DAY_SCHEMA.names).cast(FEED_DAY_SCHEMA).sort_by(ordered)


def _grouped(table: pa.Table, keys: list[str], more: list[tuple[str, str]] | None = None) -> pa.Table:
    """Per group of `keys`: counts and kWh summed, the day's expected intervals kept (every part of a day carries
    the same), and the `more` aggregations, under pyarrow's names (column_function)."""
    return table.group_by(keys).aggregate([(name, "sum") for name in _SUMMED] + [("expected", "max")] + (more or []))


def _totals_columns(grouped: pa.Table, keys: list[str]) -> dict[str, pa.ChunkedArray]:
    """The keys and totals of a _grouped table under their own names."""
    return {**{key: grouped[key] for key in keys}, **{name: grouped[f"{name}_sum"] for name in _SUMMED},
            "expected": grouped["expected_max"]}


def _sum_by(table: pa.Table, keys: list[str], schema: pa.Schema) -> pa.Table:
    return pa.table(_totals_columns(_grouped(table, keys), keys)).cast(schema).sort_by(_ORDER)
