"""Daily totals: per chunk, combined per file, and rolled up per feed-day. Exact decimal sums."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.reading_schema import KWH_TYPE

TOTAL_KWH = pa.decimal128(38, KWH_TYPE.scale)
METER_DAY_SCHEMA = pa.schema([("meter_id", pa.string()), ("channel", pa.string()), ("day", pa.string()),
                              ("kwh", TOTAL_KWH), ("readings", pa.int64()), ("anomalies", pa.int64())])
FEED_DAY_SCHEMA = pa.schema([("channel", pa.string()), ("day", pa.string()), ("kwh", TOTAL_KWH),
                             ("readings", pa.int64()), ("anomalies", pa.int64()), ("meters", pa.int64())])
_ORDER = [("meter_id", "ascending"), ("channel", "ascending"), ("day", "ascending")]


def partial_daily_totals(readings: pa.Table) -> pa.Table:
    """One chunk's readings summed per meter, channel and reading_date (the feed's local day)."""
    table = pa.table({
        "meter_id": readings["meter_id"], "channel": readings["channel"],
        "day": pc.cast(readings["reading_date"], pa.string()),
        "kwh": pc.cast(readings["kwh"], TOTAL_KWH),
        "readings": pa.repeat(pa.scalar(1, pa.int64()), readings.num_rows),
        "anomalies": pc.cast(pc.is_valid(readings["anomalies"]), pa.int64()),
    })
    return _sum_by(table, ["meter_id", "channel", "day"], METER_DAY_SCHEMA)


def combine_partials(partials: list[pa.Table]) -> pa.Table:
    """The file's meter-day totals from its chunks' partials (a meter-day may span chunks)."""
    if not partials:
        return METER_DAY_SCHEMA.empty_table()
    return _sum_by(pa.concat_tables([p.cast(METER_DAY_SCHEMA) for p in partials]), ["meter_id", "channel", "day"],
                   METER_DAY_SCHEMA)


def feed_day_totals(meter_day: pa.Table) -> pa.Table:
    """Per channel and day over all the file's meters, with how many meters reported."""
    grouped = meter_day.group_by(["channel", "day"]).aggregate(
        [("kwh", "sum"), ("readings", "sum"), ("anomalies", "sum"), ("meter_id", "count_distinct")])
    table = pa.table({"channel": grouped["channel"], "day": grouped["day"],
                      "kwh": pc.cast(grouped["kwh_sum"], TOTAL_KWH), "readings": grouped["readings_sum"],
                      "anomalies": grouped["anomalies_sum"], "meters": grouped["meter_id_count_distinct"]})
    return table.cast(FEED_DAY_SCHEMA).sort_by([("channel", "ascending"), ("day", "ascending")])


def _sum_by(table: pa.Table, keys: list[str], schema: pa.Schema) -> pa.Table:
    grouped = table.group_by(keys).aggregate([("kwh", "sum"), ("readings", "sum"), ("anomalies", "sum")])
    result = pa.table({**{key: grouped[key] for key in keys}, "kwh": pc.cast(grouped["kwh_sum"], TOTAL_KWH),
                       "readings": grouped["readings_sum"], "anomalies": grouped["anomalies_sum"]})
    return result.cast(schema).sort_by(_ORDER)
