"""Register File: identify the object and take a lease on it, or report it as a duplicate."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import unquote_plus

from tasks.adapters import audit_table, s3_objects
from tasks.adapters.settings import Settings
from tasks.domain.decompression import GZIP_MAGIC, compression_of
from tasks.domain.errors import UnknownFeed
from tasks.domain.file_identity import feed_from_key, file_id_for, safe_name
from tasks.steps.file_ref import FileRef

UNKNOWN_FEED = "_unknown"


def _object_key(bucket: str, key: str) -> tuple[str, s3_objects.ObjectInfo | None]:
    """The key as stored: S3 notifications may URL-encode it, moto does not."""
    info = s3_objects.head(bucket, key)
    if info is None and unquote_plus(key) != key:
        decoded = unquote_plus(key)
        info = s3_objects.head(bucket, decoded)
        if info is not None:
            return decoded, info
    return key, info


def _feed_and_name(key: str) -> tuple[str, str]:
    """The feed and the name the file is filed under; Validate quarantines keys that are no feed's or unsafe."""
    try:
        feed, name = feed_from_key(key)
    except UnknownFeed:
        feed, name = UNKNOWN_FEED, key.rsplit("/", 1)[-1]
    return feed, safe_name(name)


def _compression(bucket: str, key: str, name: str, size: int) -> str:
    """gzip by the name or by the first bytes (one ranged GET of two bytes)."""
    return compression_of(name, s3_objects.read_range(bucket, key, 0, min(size, len(GZIP_MAGIC))))


def register_file(bucket: str, event_key: str, rerun: bool, execution: str, settings: Settings) -> dict[str, Any]:
    """Return the FileRef for the next states; `duplicate` is true when there is nothing to do."""
    key, info = _object_key(bucket, event_key)
    known_file_id = audit_table.file_id_for_key(settings.audit_table, bucket, key)
    known = audit_table.get_file(settings.audit_table, known_file_id) if known_file_id else None
    feed, name = _feed_and_name(key)
    if info is not None:
        source_key, size, etag = key, info.size, info.etag
        file_id = file_id_for(feed, etag, size)
    elif known is not None and rerun:
        # a rerun of a file already moved to raw/ or quarantine/: same identity, read from there
        source_key, size, etag, file_id = known["current_key"], int(known["size"]), known["etag"], known_file_id
        if s3_objects.head(bucket, source_key) is None:
            raise FileNotFoundError(f"file {file_id}: its original is gone from s3://{bucket}/{source_key}")
    else:
        return {"duplicate": True, "reason": f"s3://{bucket}/{key} no longer exists", "key": key,
                "file_id": known_file_id or "", "status": (known or {}).get("status", "")}
    compression = _compression(bucket, source_key, name, size)
    previous = audit_table.get_file(settings.audit_table, file_id)
    chunk_bytes = int(previous["chunk_bytes"]) if previous and "chunk_bytes" in previous else settings.chunk_bytes
    started = audit_table.now_iso()
    attempt_sk = f"attempt#{started}#{execution}"
    stored = {"file_id": file_id, "bucket": bucket, "key": key, "current_key": source_key, "feed": feed,
              "name": name, "size": size, "etag": etag, "chunk_bytes": chunk_bytes}
    now = int(time.time())
    lease = audit_table.acquire(settings.audit_table, stored, execution, attempt_sk, rerun,
                                lease_until=now + settings.lease_seconds, now_epoch=now)
    ref = FileRef(file_id=file_id, bucket=bucket, key=key, source_key=source_key, feed=feed, name=name,
                  size=size, etag=etag, chunk_bytes=chunk_bytes, attempt_sk=attempt_sk,
                  attempt_started_at=started, execution=execution, rerun=rerun,
                  received_at=lease.file.get("created_at") or started, compression=compression,
                  duplicate=not lease.acquired, status=lease.file.get("status", ""))
    if not lease.acquired:
        audit_table.record_duplicate(settings.audit_table, file_id, execution, key, lease.file.get("status", ""))
        kept_at = lease.file.get("current_key")
        if kept_at and kept_at != key and s3_objects.head(bucket, kept_at) is not None:
            s3_objects.delete(bucket, key)  # a second copy of content that is safely kept elsewhere
    return ref.to_dict()
