"""Picks the SQL engine for a stack: Athena on AWS, DuckDB over the same Parquet on the local emulator."""

from __future__ import annotations

from typing import Any

from gridflow.sql import AwsAthena, LocalAthena, SqlEngine, monthly_report
from gridflow.stack import Stack


def engine_for(stack: Stack) -> SqlEngine:
    """The endpoint decides, not a flag in the code: the emulator has no Athena engine, so DuckDB stands in."""
    if stack.endpoint:
        return LocalAthena(stack.data_bucket, endpoint_url=stack.endpoint, region=stack.region,
                           access_key="testing", secret_key="testing")
    return AwsAthena(stack.glue_database, stack.athena_workgroup, client=stack.client("athena"))


def monthly(stack: Stack, month: str, feed: str | None) -> list[dict[str, Any]]:
    return monthly_report(engine_for(stack), month, feed)
