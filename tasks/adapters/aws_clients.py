"""boto3 clients with adaptive retries; endpoints come from the standard AWS_ENDPOINT_URL settings."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_RETRY_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)
_clients: dict[tuple[str, str, str], Any] = {}
_lock = threading.Lock()


def client(service: str) -> Any:
    """A cached client for `service`, one per endpoint and region seen in the environment."""
    key = (service, os.environ.get("AWS_ENDPOINT_URL", ""), os.environ.get("AWS_REGION", ""))
    with _lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(service, config=_RETRY_CONFIG)
        return _clients[key]
