"""What to compact in one (feed, reading_date) partition: pure decisions, no AWS.

Inputs are the partition's visible objects: chunk objects (`<file_id>-<chunk>.parquet`, one file's rows) and
compacted objects (`compacted-<digest>.parquet`, rows of several files, their inputs and files in the footer).

- Only objects whose every file is **committed** (its load finished: audit status LOADED) are touched. A file
  being loaded, rerun, retracted or quarantined keeps its objects as they are.
- An object that an existing compacted object names among its inputs is a **leftover** of a compaction that
  stopped between writing its output and deleting its inputs. Once the caller has checked that the compacted
  object really holds all its rows, it is deleted, never compacted a second time.
- The other eligible objects are packed, in key order, into merges of at most `target_bytes` (the sum of the
  inputs' sizes; merged zstd Parquet of the same rows is about as large). A compacted object already at
  `FULL_RATIO` of the target is left alone, and a merge of one object is no merge.
- A merge's output key is a digest of its input keys: the same inputs always give the same key, so running a
  compaction again after a crash overwrites its output instead of writing a second copy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from tasks.domain import lake_layout

DEFAULT_TARGET_BYTES = 128 * 1024 * 1024
FULL_RATIO = 0.75  # a compacted object this close to the target is done
MIN_TARGET_BYTES = 1024
DIGEST_CHARACTERS = 32


@dataclass(frozen=True)
class PartitionObject:
    """One visible object of a partition, as the plan needs it."""

    key: str
    size: int
    files: tuple[str, ...]  # the files its rows belong to
    inputs: tuple[str, ...] = ()  # for a compacted object: the objects it replaced

    @property
    def compacted(self) -> bool:
        return lake_layout.is_compacted(self.key)


@dataclass(frozen=True)
class Merge:
    key: str
    inputs: tuple[str, ...]
    input_bytes: int
    files: tuple[str, ...]


@dataclass(frozen=True)
class Plan:
    merges: list[Merge]
    leftovers: list[str]  # already in a compacted object: delete
    untouched: list[str]  # objects of files not committed


def output_key(feed: str, day: str, inputs: Iterable[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(inputs)).encode()).hexdigest()[:DIGEST_CHARACTERS]
    return lake_layout.compacted_key(feed, day, digest)


def _committed(item: PartitionObject, committed: set[str]) -> bool:
    return bool(item.files) and all(file_id in committed for file_id in item.files)


def claimed(objects: list[PartitionObject], committed: set[str]) -> dict[str, str]:
    """Leftover candidates: object key -> the compacted object that names it among its inputs (committed files
    only). The caller confirms by content before deleting anything."""
    present = {item.key: item for item in objects}
    claims: dict[str, str] = {}
    for holder in sorted((item for item in objects if item.compacted), key=lambda item: item.key):
        for key in holder.inputs:
            if key != holder.key and key in present and _committed(present[key], committed):
                claims.setdefault(key, holder.key)
    return claims


def plan(feed: str, day: str, objects: list[PartitionObject], committed: set[str], leftovers: Iterable[str],
         target_bytes: int = DEFAULT_TARGET_BYTES) -> Plan:
    """The merges for one partition, given which files are committed and which leftovers were confirmed."""
    if target_bytes < MIN_TARGET_BYTES:
        raise ValueError(f"target_bytes must be at least {MIN_TARGET_BYTES}, got {target_bytes}")
    gone = set(leftovers)
    untouched = sorted(item.key for item in objects if not _committed(item, committed))
    eligible = [item for item in sorted(objects, key=lambda item: item.key)
                if item.key not in gone and _committed(item, committed)
                and not (item.compacted and item.size >= FULL_RATIO * target_bytes)]
    bins: list[list[PartitionObject]] = []
    size = 0
    for item in eligible:
        if bins and size + item.size <= target_bytes:
            bins[-1].append(item)
            size += item.size
        else:
            bins.append([item])
            size = item.size
    merges = []
    for group in bins:
        if len(group) < 2:
            continue
        inputs = tuple(item.key for item in group)
        merges.append(Merge(key=output_key(feed, day, inputs), inputs=inputs,
                            input_bytes=sum(item.size for item in group),
                            files=tuple(sorted({file_id for item in group for file_id in item.files}))))
    return Plan(merges=merges, leftovers=sorted(gone), untouched=untouched)


def partitions_to_compact(keys_by_day: dict[str, int], first_day: str | None, last_day: str | None) -> list[str]:
    """Days (reading_date partitions) in [first_day, last_day] holding two or more objects."""
    return sorted(day for day, count in keys_by_day.items() if count >= 2
                  and (first_day is None or day >= first_day) and (last_day is None or day <= last_day))
