-- readings: every reading each file delivered, once, over the stored objects (readings_objects).
--
-- Compaction merges a day's small objects into one and then deletes them. S3 cannot swap several objects at
-- once, so for an instant the merged object and its inputs are both stored and readings_objects shows their
-- rows twice. The copies are equal in every column (compaction moves rows, it never changes them), so DISTINCT
-- keeps one, and a reader never sees a row twice or misses one (the merged object is written before any input
-- goes). Two rows of one file always differ (in source_line, channel or interval_start), so DISTINCT removes
-- nothing else: a reading delivered again by another file, or repeated on another line, stays, as the raw
-- history holds it (readings_latest picks one delivery per interval). Filters on feed and reading_date still
-- reach the table scan: both are DISTINCT keys.
CREATE OR REPLACE VIEW readings AS
SELECT DISTINCT * FROM readings_objects
