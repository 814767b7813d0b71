"""Deployment settings, read from the environment on every call (handlers share a process locally)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_MAX_FILE_BYTES = 10 * 1024**3  # infra/variables.tf max_file_bytes: what Validate reads within its timeout
DEFAULT_DISTRIBUTED_MAP_THRESHOLD = 40  # infra/variables.tf distributed_map_threshold (chunks)
DEFAULT_AGGREGATE_SHARD_METERS = 2000  # infra/variables.tf aggregate_shard_meters
DEFAULT_AGGREGATE_SHARDS = 500  # infra/variables.tf aggregate_shards
DEFAULT_WRITE_THREADS = 8  # infra/variables.tf totals_write_threads: BatchWriteItem requests in flight per function


@dataclass(frozen=True)
class Settings:
    data_bucket: str
    totals_table: str
    audit_table: str
    alert_topic_arn: str
    chunk_bytes: int
    max_file_bytes: int
    lease_seconds: int
    reject_alert_ratio: float
    distributed_map_threshold: int = DEFAULT_DISTRIBUTED_MAP_THRESHOLD  # more chunks than this: Distributed Map
    aggregate_shard_meters: int = DEFAULT_AGGREGATE_SHARD_METERS  # more meters than this: aggregate in shards
    aggregate_shards: int = DEFAULT_AGGREGATE_SHARDS
    write_threads: int = DEFAULT_WRITE_THREADS

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            data_bucket=env["DATA_BUCKET"],
            totals_table=env["TOTALS_TABLE"],
            audit_table=env["AUDIT_TABLE"],
            alert_topic_arn=env.get("ALERT_TOPIC_ARN", ""),
            chunk_bytes=int(env.get("CHUNK_BYTES", 24 * 1024 * 1024)),
            max_file_bytes=int(env.get("MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)),
            lease_seconds=int(env.get("LEASE_SECONDS", 900)),
            reject_alert_ratio=float(env.get("REJECT_ALERT_RATIO", 0.01)),
            distributed_map_threshold=int(env.get("DISTRIBUTED_MAP_THRESHOLD", DEFAULT_DISTRIBUTED_MAP_THRESHOLD)),
            aggregate_shard_meters=int(env.get("AGGREGATE_SHARD_METERS", DEFAULT_AGGREGATE_SHARD_METERS)),
            aggregate_shards=int(env.get("AGGREGATE_SHARDS", DEFAULT_AGGREGATE_SHARDS)),
            write_threads=int(env.get("TOTALS_WRITE_THREADS", DEFAULT_WRITE_THREADS)),
        )
