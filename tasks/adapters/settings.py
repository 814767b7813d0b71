"""Deployment settings, read from the environment on every call (handlers share a process locally)."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_MAX_FILE_BYTES = 10 * 1024**3  # infra/variables.tf max_file_bytes: what Validate reads within its timeout


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

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            data_bucket=env["DATA_BUCKET"],
            totals_table=env["TOTALS_TABLE"],
            audit_table=env["AUDIT_TABLE"],
            alert_topic_arn=env.get("ALERT_TOPIC_ARN", ""),
            chunk_bytes=int(env.get("CHUNK_BYTES", 64 * 1024 * 1024)),
            max_file_bytes=int(env.get("MAX_FILE_BYTES", DEFAULT_MAX_FILE_BYTES)),
            lease_seconds=int(env.get("LEASE_SECONDS", 900)),
            reject_alert_ratio=float(env.get("REJECT_ALERT_RATIO", 0.01)),
        )
