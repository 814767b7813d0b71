"""results.md from a results dict: ratios, extrapolated naive times and the targets verdicts."""

from typing import Any

from bench import figures, report


def _size(readings: int, gridflow_seconds: float, limit_seconds: float, naive_rows: int,
          naive_seconds: float) -> dict[str, Any]:
    tasks = {"transform_chunk": {"invocations": 2, "seconds": 4.0, "seconds_mean": 2.0}}
    calls = {"s3.GetObject": 2, "s3.PutObject": 60, "dynamodb.BatchWriteItem": 10}
    items = {"dynamodb.BatchWriteItem": readings // 48}
    states = {"Transform Chunks": gridflow_seconds / 2}
    return {
        "readings": readings, "csv_bytes": readings * 38, "meters": 1, "meter_days": readings // 48,
        "load_average_before": 1.0, "load_average_after": 2.0,
        "gridflow": {"status": "SUCCEEDED", "wall_seconds": gridflow_seconds, "parquet_bytes": 1000,
                     "parquet_objects": 30, "dynamodb_items": readings // 48, "totals_match": True,
                     "probe_peak_rss": {"transform_chunk": 300 * 2**20}, "tasks": tasks, "chunks": 2,
                     "chunk_bytes": 64 * 2**20,
                     "shares": figures.wall_shares(gridflow_seconds, 1.0, states, 1.0),
                     "per_million": figures.per_million(readings, tasks, calls, items, 10, 1000)},
        "limit": {"seconds": limit_seconds, "parquet_bytes": 900, "parquet_objects": 30, "items": readings // 48,
                  "totals_match": True},
        "naive": {"rows_written": naive_rows, "rows_total": readings, "seconds": naive_seconds,
                  "finished": naive_rows == readings,
                  "projected_seconds": figures.extrapolated_seconds(naive_seconds, naive_rows, readings)},
    }


RESULTS = {"started": "2026-11-23 18:00 UTC", "cpus": 2, "sizes": [
    _size(1_000_000, 30.0, 20.0, 1_000_000, 5000.0),
    _size(10_000_000, 250.0, 100.0, 12_000, 60.0),
]}


def test_naive_time_is_extrapolated_only_when_it_stopped_at_the_cap() -> None:
    assert report.naive_seconds(RESULTS["sizes"][0]) == 5000.0
    assert report.naive_seconds(RESULTS["sizes"][1]) == 50_000.0


def test_the_report_gives_ratios_and_marks_extrapolation() -> None:
    text = report.markdown(RESULTS)

    assert "| 1,000,000 | 38.0 | SUCCEEDED | 30.0 | 33,333 | 20.0 | 50,000 | 1.50 | 5,000.0 | 166.7 |" in text
    assert "50,000.0 (extrapolated from 12,000 rows) | 200.0 |" in text


def test_the_targets_say_which_are_met() -> None:
    text = report.markdown(RESULTS)

    assert "| gridflow within 2x of the limit at 1,000,000 | 1.50x | met |" in text
    assert "| gridflow within 2x of the limit at 10,000,000 | 2.50x | NOT met |" in text
    assert "| 300 MiB (transform_chunk 300 MiB at 1,000,000 readings) | met |" in text
    assert "k = 0.92 | met |" in text
