"""The naive approach seen in the wild: one function reads the CSV row by row and puts one DynamoDB item a row."""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class NaiveResult:
    """How far the naive loader got before the time cap, and how long it took."""

    rows_written: int
    rows_total: int
    seconds: float

    @property
    def finished(self) -> bool:
        return self.rows_written >= self.rows_total


def run_naive(csv_path: Path, dynamodb: Any, table: str, rows_total: int, cap_seconds: float) -> NaiveResult:
    """PutItem per row, single-threaded, stopping at the first row after cap_seconds."""
    written = 0
    started = time.perf_counter()
    with csv_path.open(newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for meter_id, stamp, value in reader:
            dynamodb.put_item(TableName=table, Item={
                "pk": {"S": meter_id}, "sk": {"S": stamp}, "kwh": {"N": value.strip()},
            })
            written += 1
            if time.perf_counter() - started > cap_seconds:
                break
    return NaiveResult(rows_written=written, rows_total=rows_total, seconds=time.perf_counter() - started)
