"""A reading delivered again replaces the earlier delivery: what a file's totals must net out.

Each file's daily-total items hold its contribution: its own readings minus, for every interval it
delivers again, the latest older delivery of that interval. Summed over files, the totals then equal the
totals of `readings_latest` (latest delivery wins), and a rerun of any file recomputes the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.daily_totals import METER_DAY_SCHEMA, TOTAL_KWH, combine_partials

INTERVAL_KEY = ["meter_id", "channel", "interval_start"]
DAY_KEY = ["meter_id", "channel", "day"]
NETTED = ["kwh", "readings", "anomalies"]  # what netting changes in a daily total
DELIVERY_COLUMNS = INTERVAL_KEY + ["kwh", "anomalies", "ingested_at", "file_id", "source_line"]


def _delivered_before(deliveries: pa.Table, delivered_at: datetime, file_id: str) -> pa.ChunkedArray:
    """Which rows were delivered before (delivered_at, file_id): by delivery time, then file id."""
    at = pa.scalar(delivered_at, deliveries.schema.field("ingested_at").type)
    return pc.or_(pc.less(deliveries["ingested_at"], at),
                  pc.and_(pc.equal(deliveries["ingested_at"], at), pc.less(deliveries["file_id"], pa.scalar(file_id))))


def older_deliveries(others: pa.Table, delivered_at: datetime, file_id: str, meters: pa.Array) -> pa.Table:
    """The readings of files delivered before this one (by delivery time, then file id), for these meters."""
    if others.num_rows == 0:
        return others
    earlier = _delivered_before(others, delivered_at, file_id)
    return others.filter(pc.and_(earlier, pc.is_in(others["meter_id"], value_set=meters)))


def newer_redeliveries(others: pa.Table, own: pa.Table, delivered_at: datetime, file_id: str) -> pa.Table:
    """The rows of files delivered after this one that deliver again an interval `own` (this file) delivers:
    their contributions net out this file's readings, so they change when this file comes or goes."""
    if others.num_rows == 0 or own.num_rows == 0:
        return others.slice(0, 0)
    later = pc.and_(pc.invert(_delivered_before(others, delivered_at, file_id)),
                    pc.not_equal(others["file_id"], pa.scalar(file_id)))
    intervals = own.select(INTERVAL_KEY).group_by(INTERVAL_KEY, use_threads=False).aggregate([])
    return others.filter(later).join(intervals, INTERVAL_KEY, join_type="left semi")


def superseded(own: pa.Table, older: pa.Table) -> pa.Table:
    """Per meter-day, the kWh, readings and anomalies of older deliveries that `own` replaces.

    own: the file's readings (meter_id, channel, interval_start, reading_date).
    older: readings of files delivered before this one (meter_id, channel, interval_start, kwh, anomalies,
    ingested_at, file_id), already limited to the days and meters this file touches.
    """
    if own.num_rows == 0 or older.num_rows == 0:
        return METER_DAY_SCHEMA.empty_table()
    ordered = older.sort_by([("ingested_at", "ascending"), ("file_id", "ascending")])
    position = pa.table({**{key: ordered[key] for key in INTERVAL_KEY},
                         "position": pa.array(range(ordered.num_rows), pa.int64())})
    last = position.group_by(INTERVAL_KEY, use_threads=False).aggregate([("position", "max")])
    newest = ordered.take(last["position_max"])
    latest = pa.table({**{key: newest[key] for key in INTERVAL_KEY}, "kwh_last": newest["kwh"],
                       "flagged_last": pc.cast(pc.is_valid(newest["anomalies"]), pa.int64())})
    keys = own.select(INTERVAL_KEY + ["reading_date"]).group_by(INTERVAL_KEY + ["reading_date"]).aggregate([])
    replaced = keys.join(latest, INTERVAL_KEY, join_type="inner")
    if replaced.num_rows == 0:
        return METER_DAY_SCHEMA.empty_table()
    table = pa.table({"meter_id": replaced["meter_id"], "channel": replaced["channel"],
                      "day": pc.cast(replaced["reading_date"], pa.string()),
                      "kwh": pc.cast(replaced["kwh_last"], TOTAL_KWH),
                      "readings": pa.repeat(pa.scalar(1, pa.int64()), replaced.num_rows),
                      "anomalies": replaced["flagged_last"]})
    grouped = table.group_by(DAY_KEY).aggregate([("kwh", "sum"), ("readings", "sum"), ("anomalies", "sum")])
    zeros = pa.repeat(pa.scalar(0, pa.int64()), grouped.num_rows)
    return pa.table({**{key: grouped[key] for key in DAY_KEY}, "kwh": pc.cast(grouped["kwh_sum"], TOTAL_KWH),
                     "readings": grouped["readings_sum"], "anomalies": grouped["anomalies_sum"],
                     "duplicates": zeros, "expected": zeros}).cast(METER_DAY_SCHEMA)


@dataclass(frozen=True)
class PossibleRepeats:
    """Where a file may give an interval again in another chunk: these meters, on these days, in these chunks
    (positions in the list of partials)."""

    meters: list[str]
    days: list[str]
    parts: list[int]


def possibly_repeated(partials: list[pa.Table]) -> PossibleRepeats:
    """The meter-days (by channel) that two or more chunks gave readings of in overlapping slots of the day
    (tasks.domain.daily_totals.SLOT_COUNT): only there can a file repeat an interval in another chunk (each chunk
    drops its own repeats when it is parsed). A file sorted by meter splits one meter-day at each chunk boundary,
    one sorted by time splits every meter-day; either way the halves cover different slots, so nothing is read."""
    if len(partials) < 2:
        return PossibleRepeats([], [], [])
    parts = pa.concat_tables([partial.select(DAY_KEY + ["slots"]).append_column(
        "part", pa.repeat(pa.scalar(position, pa.int64()), partial.num_rows))
        for position, partial in enumerate(partials)])
    counts = parts.group_by(DAY_KEY, use_threads=False).aggregate([("part", "count")])
    split = counts.filter(pc.greater(counts["part_count"], 1))
    if split.num_rows == 0:
        return PossibleRepeats([], [], [])
    seen: dict[tuple[str, str, str], int] = {}
    overlapping: set[tuple[str, str, str]] = set()
    for row in parts.join(split.select(DAY_KEY), DAY_KEY, join_type="left semi").to_pylist():
        key = (row["meter_id"], row["channel"], row["day"])
        if seen.get(key, 0) & row["slots"]:
            overlapping.add(key)
        seen[key] = seen.get(key, 0) | row["slots"]
    if not overlapping:
        return PossibleRepeats([], [], [])
    meters = pa.array(sorted({meter for meter, _, _ in overlapping}), pa.string())
    days = pa.array(sorted({day for _, _, day in overlapping}), pa.string())
    involved = parts.filter(pc.and_(pc.is_in(parts["meter_id"], value_set=meters),
                                    pc.is_in(parts["day"], value_set=days)))
    return PossibleRepeats(meters.to_pylist(), days.to_pylist(), sorted(set(involved["part"].to_pylist())))


def repeated_within_file(own: pa.Table) -> pa.Table:
    """Per meter-day, the readings a file gave again in a later line of another chunk (first line wins):
    their kWh, readings and anomalies to take out of the totals, and their count as duplicates.

    own: the file's curated readings of some days (INTERVAL_KEY, kwh, anomalies, source_line, reading_date).
    """
    if own.num_rows < 2:
        return METER_DAY_SCHEMA.empty_table()
    ordered = own.sort_by([("source_line", "ascending")])
    position = pa.table({**{key: ordered[key] for key in INTERVAL_KEY},
                         "position": pa.array(range(ordered.num_rows), pa.int64())})
    first = position.group_by(INTERVAL_KEY, use_threads=False).aggregate([("position", "min")])
    later = pc.invert(pc.is_in(position["position"], value_set=first["position_min"]))
    repeats = ordered.filter(later)
    if repeats.num_rows == 0:
        return METER_DAY_SCHEMA.empty_table()
    ones = pa.repeat(pa.scalar(1, pa.int64()), repeats.num_rows)
    table = pa.table({"meter_id": repeats["meter_id"], "channel": repeats["channel"],
                      "day": pc.cast(repeats["reading_date"], pa.string()), "kwh": pc.cast(repeats["kwh"], TOTAL_KWH),
                      "readings": ones, "anomalies": pc.cast(pc.is_valid(repeats["anomalies"]), pa.int64()),
                      "duplicates": ones})
    grouped = table.group_by(DAY_KEY).aggregate([(name, "sum") for name in ("kwh", "readings", "anomalies",
                                                                            "duplicates")])
    return pa.table({**{key: grouped[key] for key in DAY_KEY}, "kwh": grouped["kwh_sum"],
                     "readings": grouped["readings_sum"], "anomalies": grouped["anomalies_sum"],
                     "duplicates": pc.negate(grouped["duplicates_sum"]),
                     "expected": pa.repeat(pa.scalar(0, pa.int64()), grouped.num_rows)}).cast(METER_DAY_SCHEMA)


def net_of(meter_day: pa.Table, replaced: pa.Table) -> pa.Table:
    """The file's meter-day totals minus what it replaces (a negative duplicates count there adds repeats);
    exact decimals, same schema and order."""
    if replaced.num_rows == 0:
        return meter_day
    joined = meter_day.join(replaced, DAY_KEY, join_type="left outer", right_suffix="_replaced")
    operand = pa.decimal128(TOTAL_KWH.precision - 1, TOTAL_KWH.scale)  # so the difference fits in 38 digits
    zero_kwh = pa.scalar(0, operand)
    zero = pa.scalar(0, pa.int64())
    table = pa.table({
        **{key: joined[key] for key in DAY_KEY},
        "kwh": pc.cast(pc.subtract(pc.cast(joined["kwh"], operand),
                                       pc.fill_null(pc.cast(joined["kwh_replaced"], operand), zero_kwh)), TOTAL_KWH),
        "readings": pc.subtract(joined["readings"], pc.fill_null(joined["readings_replaced"], zero)),
        "anomalies": pc.subtract(joined["anomalies"], pc.fill_null(joined["anomalies_replaced"], zero)),
        "duplicates": pc.subtract(joined["duplicates"], pc.fill_null(joined["duplicates_replaced"], zero)),
        "expected": joined["expected"],
    })
    return table.cast(METER_DAY_SCHEMA).sort_by([(key, "ascending") for key in DAY_KEY])


def contribution(own: pa.Table, older: pa.Table) -> pa.Table:
    """Per meter-day, the kWh, readings and anomalies that a file's items hold, worked out from its curated
    readings: its readings, less those it repeats from its own earlier lines, less the older deliveries it
    replaces. (Counts that netting never changes, such as duplicates and expected, are not in the result.)

    own: the file's curated readings of some days (DELIVERY_COLUMNS and reading_date), all its meters there.
    older: deliveries of files delivered before it (older_deliveries), for the same days.
    """
    ones = pa.repeat(pa.scalar(1, pa.int64()), own.num_rows)
    given = {"meter_id": own["meter_id"], "channel": own["channel"], "day": pc.cast(own["reading_date"], pa.string()),
             "kwh": pc.cast(own["kwh"], TOTAL_KWH), "readings": ones,
             "anomalies": pc.cast(pc.is_valid(own["anomalies"]), pa.int64())}
    readings = pa.table({field.name: given[field.name] if field.name in given
                         else pa.repeat(pa.scalar(0, field.type), own.num_rows) for field in METER_DAY_SCHEMA},
                        schema=METER_DAY_SCHEMA)
    netted = net_of(net_of(combine_partials([readings]), repeated_within_file(own)), superseded(own, older))
    return netted.select(DAY_KEY + NETTED)
