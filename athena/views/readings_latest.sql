-- readings_latest: one row per (feed, meter_id, channel, interval_start).
--
-- A reading delivered more than once (a file resent under a new name, a corrected file) counts once:
-- the delivery with the latest ingested_at wins; on equal ingested_at the greater file_id wins, so the
-- choice never depends on scan order. Within one file the first line wins (a file cut into chunks can carry a
-- repeat of an interval into a later chunk; the daily totals leave that repeat out in the same way).
--
-- reading_date is in the PARTITION BY although it adds nothing to the key (it is the local date of
-- interval_start in the feed's time zone, so it is fixed by feed and interval_start). It is there so that a
-- filter on reading_date reaches the table scan: Trino (Athena) and DuckDB push a predicate below a window
-- only when it is on the window's partition keys. Without it a one-month report reads the whole lake.
CREATE OR REPLACE VIEW readings_latest AS
SELECT
    meter_id,
    channel,
    interval_start,
    interval_minutes,
    day_intervals,
    kwh,
    quality,
    anomalies,
    source_line,
    file_id,
    ingested_at,
    feed,
    reading_date
FROM (
    SELECT
        readings_objects.*,
        row_number() OVER (
            PARTITION BY feed, reading_date, meter_id, channel, interval_start
            ORDER BY ingested_at DESC, file_id DESC, source_line ASC
        ) AS delivery_rank
    FROM readings_objects
) AS ranked
WHERE delivery_rank = 1
