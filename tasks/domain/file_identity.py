"""A file's identity: its feed from the key, and a file id fixed by its content (feed, ETag, size)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from tasks.domain import lake_layout
from tasks.domain.errors import InvalidFile, UnknownFeed

FEED_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}\Z")
FILE_ID_LENGTH = 24
S3_MAX_KEY_BYTES = 1024
LONGEST_FEED = "f" * 63  # the longest name FEED_NAME allows
ANY_FILE_ID = "0" * FILE_ID_LENGTH
# A name must fit behind the longest prefix gridflow files it under: quarantine/<feed>/<file_id>/ or
# raw/<feed>/year=/month=/<file_id>/ (Finalize), for the longest feed name.
MAX_NAME_BYTES = S3_MAX_KEY_BYTES - max(
    len(lake_layout.quarantine_key(LONGEST_FEED, ANY_FILE_ID, "")),
    len(lake_layout.archive_key(LONGEST_FEED, datetime(2000, 1, 1), f"{ANY_FILE_ID}/")),
)
_PATH_SEPARATORS = re.compile(r"[/\\]")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_DOT_SEGMENTS = {"", ".", ".."}
UNNAMED = "unnamed"
SHOWN_NAME_CHARACTERS = 120
_INBOUND = re.compile(r"inbound/(?P<feed>[^/]+)/(?P<name>.+)\Z", re.DOTALL)
_ARCHIVED = re.compile(r"raw/(?P<feed>[^/]+)/year=\d{4}/month=\d{2}/(?P<name>.+)\Z", re.DOTALL)


def file_id_for(feed: str, etag: str, size: int) -> str:
    """The same bytes delivered to the same feed always get the same id, whatever the key."""
    digest = hashlib.sha256(f"{feed}\n{etag.strip(chr(34))}\n{size}".encode()).hexdigest()
    return digest[:FILE_ID_LENGTH]


def feed_from_key(key: str) -> tuple[str, str]:
    """(feed, name) for `inbound/<feed>/<name>` or an archived `raw/<feed>/year=/month=/<name>`."""
    match = _INBOUND.match(key) or _ARCHIVED.match(key)
    if not match:
        raise UnknownFeed(f"{key!r} is not under inbound/<feed>/")
    feed, name = match["feed"], match["name"]
    if not FEED_NAME.fullmatch(feed):
        raise UnknownFeed(f"{feed!r} in {key!r} is not a feed name (lowercase letters, digits, _)")
    return feed, name


def name_problem(name: str) -> str | None:
    """Why a file's name cannot be used in gridflow's own keys (raw/, quarantine/), or None when it can."""
    shown = repr(name[:SHOWN_NAME_CHARACTERS]) + ("..." if len(name) > SHOWN_NAME_CHARACTERS else "")
    if _CONTROL_CHARACTERS.search(name):
        return f"the name {shown} holds a control character"
    if any(segment in _DOT_SEGMENTS for segment in _PATH_SEPARATORS.split(name)):
        return f"the name {shown} has an empty, '.' or '..' path segment, which tools that treat keys as paths " \
               "would resolve outside the feed's folder"
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        return f"the name {shown} is not valid Unicode"
    if size > MAX_NAME_BYTES:
        return f"the name is {size} bytes long; gridflow files names under its own prefixes and S3 keys end at " \
               f"{S3_MAX_KEY_BYTES} bytes, so names may be at most {MAX_NAME_BYTES} bytes"
    return None


def check_name(name: str) -> None:
    """bad_key for a name that name_problem refuses."""
    problem = name_problem(name)
    if problem:
        raise InvalidFile("bad_key", problem)


def safe_name(name: str) -> str:
    """The name itself when it is usable in keys, else its last segment made usable (for the quarantine key)."""
    if name_problem(name) is None:
        return name
    last = _CONTROL_CHARACTERS.sub("_", _PATH_SEPARATORS.split(name)[-1]).lstrip(".")
    cut = last.encode("utf-8", errors="replace")[:MAX_NAME_BYTES].decode("utf-8", errors="ignore")
    return cut or UNNAMED
