"""Reading and writing objects in the data bucket."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from tasks.adapters.aws_clients import client

STREAM_BLOCK_BYTES = 8 * 1024 * 1024
PART_BYTES = 16 * 1024 * 1024  # S3 allows 10,000 parts: objects up to 160 GiB
# Server-side copies in 128 MiB parts, 10 at a time: a 10 GB backfill is 80 UploadPartCopy requests, not the
# 1,200 of boto3's 8 MiB default (the emulator also re-reads the whole source for each part).
COPY_CONFIG = TransferConfig(multipart_threshold=128 * 1024 * 1024, multipart_chunksize=128 * 1024 * 1024,
                             max_concurrency=10)

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    etag: str
    version_id: str | None
    metadata: dict[str, str]


def head(bucket: str, key: str) -> ObjectInfo | None:
    """Size, ETag and metadata of an object, or None when it does not exist."""
    try:
        response = client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return ObjectInfo(
        size=int(response["ContentLength"]),
        etag=response["ETag"].strip('"'),
        version_id=response.get("VersionId"),
        metadata=response.get("Metadata", {}),
    )


def read_range(bucket: str, key: str, start: int, end: int) -> bytes:
    """Bytes [start, end) of an object with one ranged GET."""
    if end <= start:
        return b""
    response = client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes={start}-{end - 1}")
    return response["Body"].read()


def read_tail(bucket: str, key: str, count: int) -> tuple[bytes, int]:
    """The last `count` bytes of an object (all of it if smaller) and its size, with one ranged GET."""
    response = client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=-{count}")
    body = response["Body"].read()
    content_range = response.get("ContentRange")
    return body, int(content_range.rsplit("/", 1)[1]) if content_range else len(body)


def stream_blocks(bucket: str, key: str, block_bytes: int = STREAM_BLOCK_BYTES) -> Iterator[bytes]:
    """The whole object, as a stream of blocks."""
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    try:
        while block := body.read(block_bytes):
            yield block
    finally:
        body.close()


def put_bytes(bucket: str, key: str, data: bytes, content_type: str = "application/octet-stream",
              metadata: dict[str, str] | None = None) -> None:
    client("s3").put_object(Bucket=bucket, Key=key, Body=data, ContentType=content_type,
                            Metadata=metadata or {})


def put_json(bucket: str, key: str, document: Any) -> None:
    put_bytes(bucket, key, json.dumps(document).encode(), "application/json")


def get_json(bucket: str, key: str) -> Any:
    return json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def get_bytes(bucket: str, key: str) -> bytes:
    return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def list_keys(bucket: str, prefix: str) -> list[str]:
    paginator = client("s3").get_paginator("list_objects_v2")
    return [item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])]


def move(bucket: str, source_key: str, target_key: str, metadata: dict[str, str] | None = None) -> None:
    """Copy then delete; a retry after a crash in between finds the copy done and converges."""
    s3 = client("s3")
    extra: dict[str, Any] = {}
    if metadata is not None:
        extra = {"Metadata": metadata, "MetadataDirective": "REPLACE"}
    if head(bucket, source_key) is not None:
        s3.copy({"Bucket": bucket, "Key": source_key}, bucket, target_key, ExtraArgs=extra, Config=COPY_CONFIG)
        s3.delete_object(Bucket=bucket, Key=source_key)


def delete(bucket: str, key: str) -> None:
    client("s3").delete_object(Bucket=bucket, Key=key)


class ObjectWriter:
    """Writes one object from a stream of blocks (multipart above PART_BYTES); nothing is left unless it completes."""

    def __init__(self, bucket: str, key: str) -> None:
        self._bucket = bucket
        self._key = key
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if kind is None:
            self._complete()
        else:
            self._abort()

    def passing(self, blocks: Iterable[bytes]) -> Iterator[bytes]:
        """Each block, once written."""
        for block in blocks:
            self.write(block)
            yield block

    def write(self, data: bytes) -> None:
        self._buffer += data
        while len(self._buffer) >= PART_BYTES:
            self._upload_part(bytes(self._buffer[:PART_BYTES]))
            del self._buffer[:PART_BYTES]

    def _upload_part(self, body: bytes) -> None:
        s3 = client("s3")
        if self._upload_id is None:
            self._upload_id = s3.create_multipart_upload(Bucket=self._bucket, Key=self._key)["UploadId"]
        number = len(self._parts) + 1
        response = s3.upload_part(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id, PartNumber=number,
                                  Body=body)
        self._parts.append({"PartNumber": number, "ETag": response["ETag"]})

    def _complete(self) -> None:
        if self._upload_id is None:
            put_bytes(self._bucket, self._key, bytes(self._buffer))
            return
        if self._buffer:
            self._upload_part(bytes(self._buffer))
        client("s3").complete_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id,
                                               MultipartUpload={"Parts": self._parts})

    def _abort(self) -> None:
        """Drop the parts; a failure here must not hide the error that stopped the write."""
        if self._upload_id is None:
            return
        try:
            client("s3").abort_multipart_upload(Bucket=self._bucket, Key=self._key, UploadId=self._upload_id)
        except ClientError as error:
            _logger.warning("could not abort the upload of s3://%s/%s: %s", self._bucket, self._key, error)
