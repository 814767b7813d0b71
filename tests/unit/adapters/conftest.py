"""An S3 bucket on moto's in-process S3 (no endpoint: the emulator is not needed for one adapter)."""

from __future__ import annotations

import pytest

from tasks.adapters.aws_clients import client

BUCKET = "gridflow-test-data"


@pytest.fixture
def s3_bucket(in_process_aws: str) -> str:
    client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": in_process_aws})
    return BUCKET
