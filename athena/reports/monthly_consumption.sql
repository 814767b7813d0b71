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
-- Columns: month 'YYYY-MM'; total_kwh decimal; readings = count of readings; expected_readings = the intervals of
-- the local days that have a reading (46, 48 or 50 half-hours a day, from day_intervals); coverage = readings /
-- expected_readings; days_covered = distinct reading dates with a reading; days_with_gaps = those of them with
-- fewer readings than intervals; anomalous_readings = readings with data-quality flags; first_interval_start and
-- last_interval_start = earliest and latest interval_start (UTC).
WITH meter_days AS (
    SELECT
        feed,
        meter_id,
        channel,
        reading_date,
        sum(kwh) AS kwh,
        count(*) AS readings,
        max(day_intervals) AS intervals,
        count(anomalies) AS anomalous,
        min(interval_start) AS first_start,
        max(interval_start) AS last_start
    FROM readings_latest
    WHERE reading_date >= date(? || '-01')
        AND reading_date < date_add('month', 1, date(? || '-01'))
        AND (? = '' OR feed = ?)
    GROUP BY feed, meter_id, channel, reading_date
)
SELECT
    feed,
    meter_id,
    channel,
    date_format(reading_date, '%Y-%m') AS month,
    sum(kwh) AS total_kwh,
    sum(readings) AS readings,
    sum(intervals) AS expected_readings,
    round(CAST(sum(readings) AS double) / sum(intervals), 4) AS coverage,
    count(*) AS days_covered,
    count_if(readings < intervals) AS days_with_gaps,
    sum(anomalous) AS anomalous_readings,
    min(first_start) AS first_interval_start,
    max(last_start) AS last_interval_start
FROM meter_days
GROUP BY feed, meter_id, channel, date_format(reading_date, '%Y-%m')
ORDER BY feed, meter_id, channel, month
