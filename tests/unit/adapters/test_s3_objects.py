"""ObjectWriter: one object written from a stream, on moto's in-process S3; nothing left behind when it fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tasks.adapters import s3_objects
from tasks.adapters.aws_clients import client
from tests.unit.adapters.conftest import BUCKET

KEY = "work/0123456789abcdef01234567/decompressed"
PART = 5 * 1024 * 1024  # the smallest part S3 (and moto) accept


@pytest.fixture
def bucket(s3_bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(s3_objects, "PART_BYTES", PART)
    return s3_bucket


def stored(key: str = KEY) -> tuple[bytes, str]:
    response = client("s3").get_object(Bucket=BUCKET, Key=key)
    return response["Body"].read(), response["ETag"].strip('"')


def blocks_of(data: bytes, size: int) -> Iterator[bytes]:
    return (data[start:start + size] for start in range(0, len(data), size))


def test_a_stream_over_a_part_is_written_in_parts_and_passed_on_unchanged(bucket: str) -> None:
    data = bytes(range(256)) * (2 * PART // 256) + b"tail"
    with s3_objects.ObjectWriter(bucket, KEY) as writer:
        passed = b"".join(writer.passing(blocks_of(data, 1_000_003)))
    body, etag = stored()
    assert passed == data and body == data
    assert etag.endswith("-3"), "three parts: two full ones and the tail"


@pytest.mark.parametrize("data", [b"", b"LCLid,tstp\n" * 10])
def test_a_stream_under_a_part_is_one_put(bucket: str, data: bytes) -> None:
    with s3_objects.ObjectWriter(bucket, KEY) as writer:
        for block in blocks_of(data, 7):
            writer.write(block)
    body, etag = stored()
    assert body == data and "-" not in etag


@pytest.mark.parametrize("size", [100, 3 * PART])
def test_a_failed_stream_leaves_no_object_and_no_upload(bucket: str, size: int) -> None:
    with pytest.raises(ValueError, match="refused"), s3_objects.ObjectWriter(bucket, KEY) as writer:
        writer.write(b"x" * size)
        raise ValueError("refused")
    assert s3_objects.head(bucket, KEY) is None
    assert client("s3").list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_move_copies_a_large_object_in_parts_and_removes_the_source(bucket: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * (2 * PART // 256) + b"tail"
    client("s3").put_object(Bucket=BUCKET, Key=KEY, Body=data)
    calls: list[str] = []
    monkeypatch.setattr(s3_objects, "COPY_CONFIG", s3_objects.TransferConfig(
        multipart_threshold=PART, multipart_chunksize=PART, max_concurrency=2))
    client("s3").meta.events.register("before-call.s3.*", lambda model, **_: calls.append(model.name))

    s3_objects.move(BUCKET, KEY, "raw/archived", metadata={"file-id": "0123"})

    assert stored("raw/archived")[0] == data
    assert client("s3").head_object(Bucket=BUCKET, Key="raw/archived")["Metadata"] == {"file-id": "0123"}
    assert s3_objects.head(BUCKET, KEY) is None
    assert calls.count("UploadPartCopy") == 3
