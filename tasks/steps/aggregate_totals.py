"""Aggregate Totals: combine the chunks' partial totals and write the file's daily-total items."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_reader, lake_writer, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS, DailyTotal
from tasks.domain.daily_totals import combine_partials, feed_day_totals
from tasks.domain.supersession import net_of, older_deliveries, superseded
from tasks.steps.file_ref import FileRef


def _daily_totals(file: FileRef, meter_day: pa.Table, feed_day: pa.Table) -> list[DailyTotal]:
    totals = [DailyTotal(feed=file.feed, meter_id=row["meter_id"], day=row["day"], channel=row["channel"],
                         file_id=file.file_id, kwh=row["kwh"], readings=row["readings"],
                         anomalies=row["anomalies"]) for row in meter_day.to_pylist()]
    totals += [DailyTotal(feed=file.feed, meter_id=ALL_METERS, day=row["day"], channel=row["channel"],
                          file_id=file.file_id, kwh=row["kwh"], readings=row["readings"],
                          anomalies=row["anomalies"], meters=row["meters"]) for row in feed_day.to_pylist()]
    return totals


def _net_of_redeliveries(file: FileRef, meter_day: pa.Table) -> pa.Table:
    """Take out what older files delivered for the same intervals, so a re-sent reading counts once."""
    days = sorted(set(meter_day["day"].to_pylist()))
    objects = lake_reader.day_objects(file.bucket, file.feed, days, file.file_id)
    others = lake_reader.read_deliveries(file.bucket, objects.others)
    older = older_deliveries(others, file.delivered_at, file.file_id, pc.unique(meter_day["meter_id"]))
    if older.num_rows == 0:
        return meter_day  # the usual case: nothing re-delivered, so the file's own Parquet need not be read back
    return net_of(meter_day, superseded(lake_reader.read_deliveries(file.bucket, objects.own), older))


def aggregate_totals(file: FileRef, chunk_results: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Idempotent: the items are keyed by (feed, meter, day, channel, file), so writing twice changes nothing."""
    partials = lake_writer.read_partial_totals(file.bucket, file.file_id, [int(c["index"]) for c in chunk_results])
    meter_day = _net_of_redeliveries(file, combine_partials(partials))
    feed_day = feed_day_totals(meter_day)
    written = totals_table.put_totals(settings.totals_table, _daily_totals(file, meter_day, feed_day))
    rules: Counter[str] = Counter()
    for result in chunk_results:
        rules.update(result.get("rejected_rules", {}))
    kwh = sum((Decimal(row) for row in feed_day["kwh"].to_pylist()), Decimal(0))
    return {
        "rows_loaded": sum(int(c["rows_loaded"]) for c in chunk_results),
        "rows_rejected": sum(int(c["rows_rejected"]) for c in chunk_results),
        "blank_lines": sum(int(c.get("blank_lines", 0)) for c in chunk_results),
        "curated_objects": sum(int(c.get("objects", 0)) for c in chunk_results),
        "meter_days": meter_day.num_rows,
        "items_written": written,
        "kwh": str(kwh),
        "rejected_rules": dict(rules),
    }
