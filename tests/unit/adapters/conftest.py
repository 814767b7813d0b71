"""An S3 bucket on moto's in-process S3 (no endpoint: the emulator is not needed for one adapter)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tasks.adapters.aws_clients import client

BUCKET = "gridflow-test-data"


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    for name, value in {"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-3"})
        yield BUCKET
