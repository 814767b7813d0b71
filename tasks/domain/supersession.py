"""A reading delivered again replaces the earlier delivery: what a file's totals must net out.

Each file's daily-total items hold its contribution: its own readings minus, for every interval it
delivers again, the latest older delivery of that interval. Summed over files, the totals then equal the
totals of `readings_latest` (latest delivery wins), and a rerun of any file recomputes the same numbers.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.daily_totals import METER_DAY_SCHEMA, TOTAL_KWH

INTERVAL_KEY = ["meter_id", "channel", "interval_start"]
DAY_KEY = ["meter_id", "channel", "day"]
DELIVERY_COLUMNS = INTERVAL_KEY + ["kwh", "anomalies", "ingested_at", "file_id"]


def older_deliveries(others: pa.Table, delivered_at: datetime, file_id: str, meters: pa.Array) -> pa.Table:
    """The readings of files delivered before this one (by delivery time, then file id), for these meters."""
    if others.num_rows == 0:
        return others
    at = pa.scalar(delivered_at, others.schema.field("ingested_at").type)
    earlier = pc.or_(pc.less(others["ingested_at"], at),
                     pc.and_(pc.equal(others["ingested_at"], at), pc.less(others["file_id"], pa.scalar(file_id))))
    return others.filter(pc.and_(earlier, pc.is_in(others["meter_id"], value_set=meters)))


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
    return pa.table({**{key: grouped[key] for key in DAY_KEY}, "kwh": pc.cast(grouped["kwh_sum"], TOTAL_KWH),
                     "readings": grouped["readings_sum"], "anomalies": grouped["anomalies_sum"]},
                    ).cast(METER_DAY_SCHEMA)


def net_of(meter_day: pa.Table, replaced: pa.Table) -> pa.Table:
    """The file's meter-day totals minus what it replaces; exact decimals, same schema and order."""
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
    })
    return table.cast(METER_DAY_SCHEMA).sort_by([(key, "ascending") for key in DAY_KEY])
