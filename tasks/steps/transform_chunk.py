"""Transform Chunk: parse one byte range into curated Parquet, rejected rows and partial totals."""

from __future__ import annotations

from typing import Any

import pyarrow.compute as pc

from tasks.adapters import lake_writer, s3_objects
from tasks.domain.chunk_plan import chunk_result_key
from tasks.domain.daily_totals import partial_daily_totals
from tasks.domain.feed_spec import load_feed_spec
from tasks.domain.reading_parser import parse_chunk
from tasks.steps.file_ref import FileRef


def transform_chunk(file: FileRef, chunk: dict[str, Any]) -> dict[str, Any]:
    """Every output key is fixed by (file, chunk, date), so a retry or rerun overwrites, never adds. The result is
    also stored in work/ for an Aggregate after the Distributed Map, whose output the state does not keep."""
    spec = load_feed_spec(file.feed)
    index = int(chunk["index"])
    body = s3_objects.read_range(file.bucket, file.content_key, int(chunk["start"]), int(chunk["end"]))
    parsed = parse_chunk(spec, body, int(chunk["first_line"]), file.file_id, file.delivered_at, file.name)
    # The manifest first: a try that dies between two writes leaves nothing Record Failure cannot find.
    lake_writer.write_chunk_outputs(file.bucket, file.file_id, index, lake_writer.chunk_output_keys(
        file.feed, file.file_id, index, parsed.readings, parsed.rejected))
    objects = lake_writer.write_curated(file.bucket, file.feed, file.file_id, index, parsed.readings)
    lake_writer.write_rejected(file.bucket, file.feed, file.file_id, index, parsed.rejected)
    partial = partial_daily_totals(parsed.readings, parsed.duplicates)
    lake_writer.write_partial_totals(file.bucket, file.file_id, index, partial)
    result = {
        "index": index,
        "rows_loaded": parsed.readings.num_rows,
        "rows_rejected": parsed.rejected.num_rows,
        "meters": len(pc.unique(partial["meter_id"])),
        "blank_lines": parsed.blank_lines,
        "objects": len(objects),
        "bytes": len(body),
        "rejected_rules": _count_rules(parsed.rejected),
    }
    s3_objects.put_json(file.bucket, chunk_result_key(file.file_id, index), result)
    return result


def _count_rules(rejected: Any) -> dict[str, int]:
    if rejected.num_rows == 0:
        return {}
    counts = rejected.group_by("rule").aggregate([("rule", "count")])
    return dict(zip(counts["rule"].to_pylist(), counts["rule_count"].to_pylist()))
