-- Monthly consumption per feed, meter and channel, each reading counted once (from readings_latest).
--
-- Parameters: positional `?`, sent as Athena execution parameters (StartQueryExecution ExecutionParameters,
-- each a SQL literal such as '2024-03') or bound as DuckDB prepared-statement parameters locally.
-- gridflow.sql.monthly_report(engine, month, feed) passes them in this order:
--   1. month  'YYYY-MM'                    start of the month
--   2. month  'YYYY-MM' (the same value)   end of the month
--   3. feed   feed name, or '' for all feeds
--   4. feed   (the same value)
--
-- The month filter compares reading_date itself with values that are constant once the parameters are bound,
-- so Athena's partition projection and the local DuckDB scan read only that month's partitions.
--
-- Columns: month 'YYYY-MM'; total_kwh decimal; readings = count of readings; days_covered = distinct
-- reading dates with a reading; anomalous_readings = readings with anomaly flags; first_interval_start and
-- last_interval_start = earliest and latest interval_start (UTC).
SELECT
    feed,
    meter_id,
    channel,
    date_format(reading_date, '%Y-%m') AS month,
    sum(kwh) AS total_kwh,
    count(*) AS readings,
    count(DISTINCT reading_date) AS days_covered,
    count(anomalies) AS anomalous_readings,
    min(interval_start) AS first_interval_start,
    max(interval_start) AS last_interval_start
FROM readings_latest
WHERE reading_date >= date(? || '-01')
    AND reading_date < date_add('month', 1, date(? || '-01'))
    AND (? = '' OR feed = ?)
GROUP BY feed, meter_id, channel, date_format(reading_date, '%Y-%m')
ORDER BY feed, meter_id, channel, month
