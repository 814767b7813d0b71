"""The arithmetic of the report: ratios, extrapolation, growth, wall-time shares, per-million figures, cost."""

from __future__ import annotations

import math
from typing import Any

MILLION = 1_000_000
LAMBDA_GB = 1.0  # infra/functions.tf memory_size = 1024
S3_PUT_CLASS = frozenset({"PutObject", "CopyObject", "ListObjectsV2", "ListObjects", "CreateMultipartUpload",
                          "UploadPart", "UploadPartCopy", "CompleteMultipartUpload"})
S3_FREE = frozenset({"DeleteObject", "DeleteObjects", "AbortMultipartUpload"})
DYNAMODB_SINGLE_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
# us-east-1 list prices as published by AWS, checked 2026-11.
PRICES = {
    "lambda_gb_second": 0.0000166667, "lambda_request": 0.20 / MILLION,
    "state_transition": 0.025 / 1000, "dynamodb_wru": 0.625 / MILLION,
    "s3_put": 0.005 / 1000, "s3_get": 0.0004 / 1000, "athena_byte": 5.0 / 1e12,
}
PARSE_STATES = ("Transform Chunks", "Transform Chunks (Distributed)")  # inline Map, or Distributed for many chunks
AGGREGATE_STATES = ("Aggregate Totals", "Aggregate Shards", "Commit Feed Totals")  # one, or sharded by meter
SHARE_PARTS = ("upload", "orchestration", "audit (register, finalize)", "validate", "parse and Parquet",
               "aggregation", "DynamoDB")


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def extrapolated_seconds(seconds: float, done: int, total: int) -> float:
    """Time for `total` rows at the rate measured over `done` rows (linear)."""
    return seconds * total / done


def growth_exponent(small_n: int, small_seconds: float, large_n: int, large_seconds: float) -> float:
    """k in time ∝ n^k between two sizes: 1 is linear, above 1 grows faster than linearly."""
    return math.log(large_seconds / small_seconds) / math.log(large_n / small_n)


def wall_shares(wall: float, upload: float, states: dict[str, float], dynamodb: float) -> dict[str, float]:
    """Seconds of the wall time per part; orchestration is what the tasks and the upload leave over."""
    parts = {
        "upload": upload,
        "audit (register, finalize)": states.get("Register File", 0.0) + states.get("Finalize File", 0.0),
        "validate": states.get("Validate File", 0.0),
        "parse and Parquet": sum(states.get(name, 0.0) for name in PARSE_STATES),
        "aggregation": max(sum(states.get(name, 0.0) for name in AGGREGATE_STATES) - dynamodb, 0.0),
        "DynamoDB": dynamodb,
    }
    parts["orchestration"] = max(wall - sum(parts.values()), 0.0)
    return {name: parts[name] for name in SHARE_PARTS}


def _service_calls(calls: dict[str, int], service: str) -> dict[str, int]:
    prefix = f"{service}."
    return {name.removeprefix(prefix): count for name, count in calls.items() if name.startswith(prefix)}


def dynamodb_wru(calls: dict[str, int], items: dict[str, int]) -> int:
    """Write request units of items under 1 KB: 1 a batch or single write, 2 a transactional item."""
    singles = sum(count for name, count in _service_calls(calls, "dynamodb").items()
                  if name in DYNAMODB_SINGLE_WRITES)
    return items.get("dynamodb.BatchWriteItem", 0) + 2 * items.get("dynamodb.TransactWriteItems", 0) + singles


def s3_requests(calls: dict[str, int]) -> tuple[int, int]:
    """(PUT-class, GET-class) S3 requests, as S3 bills them (deletes are free)."""
    s3 = _service_calls(calls, "s3")
    put = sum(count for name, count in s3.items() if name in S3_PUT_CLASS)
    get = sum(count for name, count in s3.items() if name not in S3_PUT_CLASS | S3_FREE)
    return put, get


def per_million(readings: int, tasks: dict[str, dict[str, Any]], calls: dict[str, int], items: dict[str, int],
                transitions: int, parquet_bytes: int) -> dict[str, float]:
    """Requests, Lambda time and bytes of one load, scaled to one million readings."""
    scale = MILLION / readings
    put, get = s3_requests(calls)
    figures = {
        "lambda_invocations": sum(t["invocations"] for t in tasks.values()) * scale,
        "lambda_gb_seconds": sum(t["seconds"] for t in tasks.values()) * LAMBDA_GB * scale,
        "state_transitions": transitions * scale,
        "dynamodb_items": items.get("dynamodb.BatchWriteItem", 0) * scale,
        "dynamodb_wru": dynamodb_wru(calls, items) * scale,
        "s3_put_class": put * scale,
        "s3_get_class": get * scale,
        "parquet_bytes": parquet_bytes * scale,
    }
    figures.update({f"seconds_{name}": task["seconds"] * scale for name, task in sorted(tasks.items())})
    return figures


def cost_per_million(figures: dict[str, float]) -> dict[str, float]:
    """US dollars per million readings by service, from per_million() figures and PRICES."""
    return {
        "lambda": figures["lambda_gb_seconds"] * PRICES["lambda_gb_second"]
        + figures["lambda_invocations"] * PRICES["lambda_request"],
        "step_functions": figures["state_transitions"] * PRICES["state_transition"],
        "dynamodb": figures["dynamodb_wru"] * PRICES["dynamodb_wru"],
        "s3": figures["s3_put_class"] * PRICES["s3_put"] + figures["s3_get_class"] * PRICES["s3_get"],
        "athena_full_scan": figures["parquet_bytes"] * PRICES["athena_byte"],
    }


def totals_match(expected: dict[str, list[int]], loaded: dict[str, tuple[int, Any]]) -> bool:
    """Whether loaded per-day (readings, kWh) equal the generator's (readings, milli-kWh), exactly."""
    return set(expected) == set(loaded) and all(
        loaded[day][0] == readings and loaded[day][1] * 1000 == milli
        for day, (readings, milli) in expected.items())
