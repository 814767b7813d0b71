-- The Athena table `readings_objects`: the curated Parquet lake as stored, with partition projection
-- (no crawler, no MSCK REPAIR TABLE, no partitions to add after a load). Query the views over it instead:
-- `readings` (athena/views/readings.sql) and `readings_latest`. While compaction swaps a day's objects, the
-- merged object and its inputs are both stored for an instant, and this table shows their rows twice.
--
-- For users who do not deploy with Terraform (infra/ creates the same table from glue/readings.json,
-- the single source of truth for the schema: keep the two in step; tests/unit/test_athena_sql.py checks it).
-- Replace the placeholders before running it, for example with envsubst:
--   ${database}  Glue database, e.g. gridflow
--   ${bucket}    data bucket name, without s3://
--   ${feeds}     comma-separated feed names, no spaces, e.g. esb_hdf,lcl_halfhourly (the folders under inbound/)
--
-- Partitions: feed is an enum (a query without a feed filter reads every listed feed), reading_date a date
-- range from 2000-01-01 to tomorrow (a feed's local date can be ahead of UTC). The objects follow the Hive
-- layout feed=<feed>/reading_date=YYYY-MM-DD/ under LOCATION, so no storage.location.template is needed.
CREATE EXTERNAL TABLE IF NOT EXISTS `${database}`.`readings_objects` (
    `meter_id` string COMMENT 'meter identifier as sent by the feed',
    `channel` string COMMENT 'import, export, generation, consumption, gas, ...',
    `interval_start` timestamp COMMENT 'UTC start of the interval',
    `interval_minutes` int COMMENT 'length of the interval in minutes',
    `day_intervals` int COMMENT 'intervals in the local day of the reading (46, 48 or 50 half-hours)',
    `kwh` decimal(18,9) COMMENT 'energy in the interval, kWh, exact decimal',
    `quality` string COMMENT 'A = actual, E = estimated, as the feed reports it',
    `anomalies` string COMMENT 'comma-separated data-quality flags, null when clean',
    `source_line` bigint COMMENT '1-based line number of the row in the source file',
    `file_id` string COMMENT 'the file that delivered the reading',
    `ingested_at` timestamp COMMENT 'UTC time the chunk was written'
)
COMMENT 'The Parquet objects of the lake as stored, written by TransformChunk and compaction. Query the views: readings (every delivered reading once) and readings_latest (one row per meter, channel and interval).'
PARTITIONED BY (
    `feed` string COMMENT 'feed name, from inbound/<feed>/',
    `reading_date` date COMMENT 'local date of interval_start in the time zone of the feed'
)
STORED AS PARQUET
LOCATION 's3://${bucket}/curated/readings/'
TBLPROPERTIES (
    'projection.enabled' = 'true',
    'projection.feed.type' = 'enum',
    'projection.feed.values' = '${feeds}',
    'projection.reading_date.type' = 'date',
    'projection.reading_date.format' = 'yyyy-MM-dd',
    'projection.reading_date.range' = '2000-01-01,NOW+1DAYS',
    'projection.reading_date.interval' = '1',
    'projection.reading_date.interval.unit' = 'DAYS'
);
