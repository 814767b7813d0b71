"""The limit: the same unavoidable work done the fastest known way, in one process.

DuckDB reads the CSV once, writes the same day-partitioned zstd Parquet (`COPY ... PARTITION_BY`) and computes the
same meter-day and feed-day totals (`GROUP BY`); the items are then written with BatchWriteItem at full
parallelism (and no client-side parameter validation, as gridflow's writer) to a table in the same emulator.
"""

from __future__ import annotations

import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
from botocore.config import Config

FEED = "lcl_halfhourly"
FILE_ID = "limit"
BATCH_LIMIT = 25
WRITE_THREADS = 16

LOAD_SQL = """
CREATE TABLE readings AS
SELECT LCLid AS meter_id, 'import' AS channel,
       strptime(tstp, '%Y-%m-%d %H:%M:%S') AS interval_start, 30 AS interval_minutes,
       CAST(trim("energy(kWh/hh)") AS DECIMAL(18, 9)) AS kwh,
       CAST(strptime(tstp, '%Y-%m-%d %H:%M:%S') AS DATE) AS reading_date
FROM read_csv(?, header = true, all_varchar = true)
ORDER BY meter_id, interval_start
"""
METER_DAYS_SQL = """
SELECT meter_id, CAST(reading_date AS VARCHAR) AS day, sum(kwh) AS kwh, count(*) AS readings
FROM readings GROUP BY meter_id, reading_date
"""
FEED_DAYS_SQL = """
SELECT CAST(reading_date AS VARCHAR) AS day, sum(kwh) AS kwh, count(*) AS readings,
       count(DISTINCT meter_id) AS meters
FROM readings GROUP BY reading_date
"""


@dataclass
class LimitResult:
    """Timings and outputs of the limit run."""

    seconds: float
    duckdb_seconds: float
    dynamodb_seconds: float
    parquet_bytes: int
    parquet_objects: int
    items: int
    day_totals: dict[str, tuple[int, Decimal]] = field(default_factory=dict)  # day -> (readings, kWh)


def _item(meter_id: str, day: str, kwh: Decimal, readings: int, meters: int) -> dict[str, Any]:
    """A daily-total item with the attributes gridflow's items carry."""
    return {"PutRequest": {"Item": {
        "pk": {"S": f"{FEED}#{meter_id}"}, "sk": {"S": f"{day}#import#{FILE_ID}"},
        "feed": {"S": FEED}, "meter_id": {"S": meter_id}, "day": {"S": day}, "channel": {"S": "import"},
        "file_id": {"S": FILE_ID}, "kwh": {"N": str(kwh)}, "readings": {"N": str(readings)},
        "anomalies": {"N": "0"}, "meters": {"N": str(meters)}, "duplicates": {"N": "0"},
        "expected": {"N": "48"},
    }}}


def writer_client(region: str, endpoint: str) -> Any:
    """The fastest DynamoDB client for the bulk write: a pooled connection per thread, no client-side validation."""
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint,
                        config=Config(max_pool_connections=WRITE_THREADS, parameter_validation=False))


def _write_batch(dynamodb: Any, table: str, batch: list[dict[str, Any]]) -> None:
    pending = {table: batch}
    while pending:
        pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def write_items(dynamodb: Any, table: str, items: list[dict[str, Any]]) -> None:
    """BatchWriteItem, 25 items a request, WRITE_THREADS requests in flight."""
    batches = [items[start:start + BATCH_LIMIT] for start in range(0, len(items), BATCH_LIMIT)]
    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        list(pool.map(lambda batch: _write_batch(dynamodb, table, batch), batches))


def _parquet_size(root: Path) -> tuple[int, int]:
    files = list(root.rglob("*.parquet"))
    return sum(f.stat().st_size for f in files), len(files)


def run_limit(csv_path: Path, out_dir: Path, dynamodb: Any, table: str) -> LimitResult:
    """Convert, total and write the items; the Parquet goes to out_dir (emptied first)."""
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    lake = out_dir / f"feed={FEED}"
    started = time.perf_counter()
    with duckdb.connect() as db:
        db.execute(LOAD_SQL, [str(csv_path)])
        db.execute(f"COPY readings TO '{lake}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (reading_date))")
        meter_days = db.execute(METER_DAYS_SQL).fetchall()
        feed_days = db.execute(FEED_DAYS_SQL).fetchall()
    duckdb_done = time.perf_counter()
    items = [_item(meter, day, kwh, readings, 1) for meter, day, kwh, readings in meter_days]
    items += [_item("*", day, kwh, readings, meters) for day, kwh, readings, meters in feed_days]
    write_items(dynamodb, table, items)
    ended = time.perf_counter()
    parquet_bytes, parquet_objects = _parquet_size(lake)
    return LimitResult(seconds=ended - started, duckdb_seconds=duckdb_done - started,
                       dynamodb_seconds=ended - duckdb_done, parquet_bytes=parquet_bytes,
                       parquet_objects=parquet_objects, items=len(items),
                       day_totals={day: (readings, kwh) for day, kwh, readings, _ in feed_days})
