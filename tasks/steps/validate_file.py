"""Validate File: check the file can be trusted and plan its chunks, in one streaming pass."""

from __future__ import annotations

from typing import Any

from tasks.adapters import s3_objects
from tasks.adapters.settings import Settings
from tasks.domain import lake_layout
from tasks.domain.chunk_plan import ChunkPlan, chunk_items_key, plan_file
from tasks.domain.decompression import gunzip
from tasks.domain.errors import InvalidFile
from tasks.domain.feed_spec import FeedSpec, load_feed_spec
from tasks.domain.file_identity import check_name, feed_from_key
from tasks.steps.file_ref import FileRef


def _plan(file: FileRef, spec: FeedSpec, settings: Settings) -> ChunkPlan:
    """Plan from the original, or inflate it to its staged plain copy while planning (one pass either way)."""
    blocks = s3_objects.stream_blocks(file.bucket, file.source_key)
    if not file.compression:
        return plan_file(blocks, spec, file.chunk_bytes)
    with s3_objects.ObjectWriter(file.bucket, file.content_key) as staged:
        return plan_file(staged.passing(gunzip(blocks, settings.max_file_bytes)), spec, file.chunk_bytes)


def validate_file(file: FileRef, settings: Settings) -> dict[str, Any]:
    """Return the chunk plan (byte ranges on line boundaries); raise InvalidFile for a bad file.

    Up to settings.distributed_map_threshold chunks travel in the state (the inline Map's items); a file with
    more goes to the Distributed Map, whose ItemReader reads the items from S3, so the state carries only the
    key and the count (state payloads are limited to 256 KB)."""
    check_name(feed_from_key(file.key)[1])
    if file.size > settings.max_file_bytes:
        raise InvalidFile("too_large", f"{file.name} is {file.size} bytes, over the limit of {settings.max_file_bytes}")
    plan = _plan(file, load_feed_spec(file.feed), settings)
    s3_objects.put_json(file.bucket, lake_layout.chunk_plan_key(file.file_id), plan.to_dict())
    summary = {"header_end": plan.header_end, "data_lines": plan.data_lines, "chunk_count": len(plan.chunks)}
    if len(plan.chunks) <= settings.distributed_map_threshold:
        return {**summary, "distributed": False, "chunks": plan.items()}
    items_key = chunk_items_key(file.file_id)
    s3_objects.put_json(file.bucket, items_key, plan.items())
    return {**summary, "distributed": True, "chunk_items_key": items_key}
