"""Aggregate Totals: combine the chunks' partial totals and write the file's daily-total items."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from tasks.adapters import lake_reader, lake_writer, netting_lease, totals_table
from tasks.adapters.settings import Settings
from tasks.adapters.totals_table import ALL_METERS, DailyTotal
from tasks.domain.daily_totals import combine_partials, feed_day_totals
from tasks.domain.supersession import (days_in_several_chunks, net_of, older_deliveries, repeated_within_file,
                                      superseded)
from tasks.steps import netting
from tasks.steps.file_ref import FileRef


def _daily_totals(file: FileRef, meter_day: pa.Table, feed_day: pa.Table) -> list[DailyTotal]:
    totals = [DailyTotal(feed=file.feed, file_id=file.file_id, **row) for row in meter_day.to_pylist()]
    totals += [DailyTotal(feed=file.feed, file_id=file.file_id, meter_id=ALL_METERS, **row)
               for row in feed_day.to_pylist()]
    return totals


def _net_of_repeats(file: FileRef, partials: list[pa.Table]) -> pa.Table:
    """The file's meter-day totals without the intervals it gave twice in different chunks (first line wins)."""
    meter_day = combine_partials(partials)
    days = days_in_several_chunks(partials)
    if not days:
        return meter_day
    own = lake_reader.day_objects(file.bucket, file.feed, days, file.file_id).own
    return net_of(meter_day, repeated_within_file(lake_reader.read_deliveries(file.bucket, own)))


def _commit_netted(file: FileRef, meter_day: pa.Table, settings: Settings) -> tuple[pa.Table, int, list[str]]:
    """Net out what older committed files delivered for the same intervals, write the file's items, and work
    out again the newer committed files that re-deliver its intervals; under the feed's netting lease, so two
    files re-delivering the same intervals never net at the same moment (NettingBusy makes one wait)."""
    meters = pc.unique(meter_day["meter_id"])
    with netting_lease.held(settings.totals_table, file.feed, file.execution):
        lake = netting.committed_lake(file, sorted(set(meter_day["day"].to_pylist())), settings.totals_table)
        own = netting.own_deliveries(file, lake, meters)  # empty in the usual case: no committed file shares a meter
        older = older_deliveries(lake.deliveries, file.delivered_at, file.file_id, meters)
        meter_day = net_of(meter_day, superseded(own, older))
        written = totals_table.put_totals(settings.totals_table,
                                          _daily_totals(file, meter_day, feed_day_totals(meter_day)))
        renetted = netting.renet_newer(file, own, netting.with_own(lake, own), lake, settings.totals_table)
    return meter_day, written, renetted


def aggregate_totals(file: FileRef, chunk_results: list[dict[str, Any]], settings: Settings) -> dict[str, Any]:
    """Idempotent: the items are keyed by (feed, meter, day, channel, file), so writing twice changes nothing."""
    partials = lake_writer.read_partial_totals(file.bucket, file.file_id, [int(c["index"]) for c in chunk_results])
    meter_day, written, renetted = _commit_netted(file, _net_of_repeats(file, partials), settings)
    feed_day = feed_day_totals(meter_day)
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
        "renetted_files": renetted,
        "kwh": str(kwh),
        "rejected_rules": dict(rules),
    }
