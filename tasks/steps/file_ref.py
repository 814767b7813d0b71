"""The file a workflow execution is about, as it travels between states."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from tasks.domain.decompression import decompressed_key


@dataclass(frozen=True)
class FileRef:
    file_id: str
    bucket: str
    key: str
    source_key: str
    feed: str
    name: str
    size: int
    etag: str
    chunk_bytes: int
    attempt_sk: str
    attempt_started_at: str
    execution: str
    received_at: str = ""  # when the file was first registered: fixed across reruns, orders deliveries
    compression: str = ""  # "gzip": the chunks read the decompressed copy Validate stages under work/
    rerun: bool = False
    duplicate: bool = False
    status: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def delivered_at(self) -> datetime:
        """The file's place in delivery order (UTC, naive): the later delivery of a reading wins."""
        moment = datetime.fromisoformat(self.received_at or self.attempt_started_at)
        return moment.astimezone(timezone.utc).replace(tzinfo=None)

    @property
    def content_key(self) -> str:
        """The object holding the file's plain text, which the chunk plan's byte ranges index."""
        return decompressed_key(self.file_id) if self.compression else self.source_key

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "FileRef":
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})
