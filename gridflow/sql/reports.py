"""Reports over the lake, each one SQL file of athena/reports/ run on either engine."""

from __future__ import annotations

import re

from gridflow.sql._engine import Row, SqlEngine

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def monthly_report(engine: SqlEngine, month: str, feed: str | None = None) -> list[Row]:
    """Consumption per feed, meter and channel in month ('YYYY-MM'), for one feed or (None) all feeds.

    Rows as athena/reports/monthly_consumption.sql describes them, ordered by feed, meter and channel.

    Example
    -------
    >>> monthly_report(LocalAthena("my-data-bucket"), "2024-03", feed="esb_hdf")  # doctest: +SKIP
    [{'feed': 'esb_hdf', 'meter_id': '10000000001', 'channel': 'import', 'month': '2024-03',
      'total_kwh': Decimal('412.250000'), 'readings': 1488, 'days_covered': 31, ...}]
    """
    if not isinstance(month, str) or not _MONTH.fullmatch(month):
        raise ValueError(f"month must be 'YYYY-MM' (e.g. '2024-03'), got {month!r}")
    feed_or_all = feed or ""
    return engine.run("reports/monthly_consumption", [month, month, feed_or_all, feed_or_all])
