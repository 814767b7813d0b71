"""Every S3 key gridflow writes, in one place: the lake's layout is a contract with Athena and with reruns."""

from __future__ import annotations

from datetime import datetime

CURATED_ROOT = "curated/readings"


def curated_prefix(feed: str, reading_date: str | None = None) -> str:
    prefix = f"{CURATED_ROOT}/feed={feed}/"
    return f"{prefix}reading_date={reading_date}/" if reading_date else prefix


def curated_key(feed: str, reading_date: str, file_id: str, chunk_index: int) -> str:
    """Fixed by (file, chunk, date): a retried chunk or a rerun overwrites its own objects, never adds."""
    return f"{curated_prefix(feed, reading_date)}{file_id}-{chunk_index:05d}.parquet"


COMPACTED_PREFIX = "compacted-"


def compacted_key(feed: str, reading_date: str, digest: str) -> str:
    """A compaction's output, in the partition of its inputs; the digest is fixed by the inputs, so a rerun of
    the same compaction writes the same key again instead of a second copy (tasks.domain.compaction_plan)."""
    return f"{curated_prefix(feed, reading_date)}{COMPACTED_PREFIX}{digest}.parquet"


def object_name(key: str) -> str:
    return key.rsplit("/", 1)[-1]


def is_hidden(key: str) -> bool:
    """Athena, Hive and pyarrow datasets skip objects whose name starts with "_" or "."."""
    return object_name(key).startswith(("_", "."))


def is_compacted(key: str) -> bool:
    return object_name(key).startswith(COMPACTED_PREFIX)


def file_of(key: str) -> str | None:
    """The file id in a chunk object's name, <file_id>-<chunk>.parquet; None for a compacted object, whose
    rows belong to several files (its file_id column says which)."""
    if is_compacted(key):
        return None
    return object_name(key).rsplit("-", 1)[0]


def chunk_of(key: str) -> int | None:
    """The chunk index in a chunk object's name; None for a compacted object."""
    if is_compacted(key):
        return None
    return int(object_name(key).rsplit("-", 1)[1].split(".", 1)[0])


def day_of(key: str) -> str:
    return key.split("reading_date=", 1)[1].split("/", 1)[0]


def rejected_key(feed: str, file_id: str, chunk_index: int) -> str:
    return f"rejected/{feed}/{file_id}/chunk-{chunk_index:05d}.csv"


def work_prefix(file_id: str) -> str:
    return f"work/{file_id}/"


def chunk_plan_key(file_id: str) -> str:
    return f"{work_prefix(file_id)}chunk-plan.json"


def partial_totals_prefix(file_id: str) -> str:
    return f"{work_prefix(file_id)}partials/"


def partial_totals_key(file_id: str, chunk_index: int) -> str:
    return f"{partial_totals_prefix(file_id)}chunk-{chunk_index:05d}.parquet"


def chunk_outputs_prefix(file_id: str) -> str:
    return f"{work_prefix(file_id)}outputs/"


def chunk_outputs_key(file_id: str, chunk_index: int) -> str:
    """The manifest of lake objects one chunk wrote, so a load can be taken back out."""
    return f"{chunk_outputs_prefix(file_id)}chunk-{chunk_index:05d}.json"


def archive_key(feed: str, received: datetime, name: str) -> str:
    return f"raw/{feed}/year={received:%Y}/month={received:%m}/{name}"


def quarantine_key(feed: str, file_id: str, name: str) -> str:
    return f"quarantine/{feed}/{file_id}/{name}"
