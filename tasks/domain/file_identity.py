"""A file's identity: its feed from the key, and a file id fixed by its content (feed, ETag, size)."""

from __future__ import annotations

import hashlib
import re

from tasks.domain.errors import UnknownFeed

FEED_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
_INBOUND = re.compile(r"^inbound/(?P<feed>[^/]+)/(?P<name>.+)$")
_ARCHIVED = re.compile(r"^raw/(?P<feed>[^/]+)/year=\d{4}/month=\d{2}/(?P<name>.+)$")


def file_id_for(feed: str, etag: str, size: int) -> str:
    """The same bytes delivered to the same feed always get the same id, whatever the key."""
    digest = hashlib.sha256(f"{feed}\n{etag.strip(chr(34))}\n{size}".encode()).hexdigest()
    return digest[:24]


def feed_from_key(key: str) -> tuple[str, str]:
    """(feed, name) for `inbound/<feed>/<name>` or an archived `raw/<feed>/year=/month=/<name>`."""
    match = _INBOUND.match(key) or _ARCHIVED.match(key)
    if not match:
        raise UnknownFeed(f"{key!r} is not under inbound/<feed>/")
    feed, name = match["feed"], match["name"]
    if not FEED_NAME.fullmatch(feed):
        raise UnknownFeed(f"{feed!r} in {key!r} is not a feed name (lowercase letters, digits, _)")
    return feed, name
