"""boto3 clients with adaptive retries; endpoints come from the standard AWS_ENDPOINT_URL settings."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
from botocore.config import Config

_RETRY_CONFIG = Config(retries={"max_attempts": 8, "mode": "adaptive"}, max_pool_connections=32)
# For bulk writes of items the code builds itself: botocore's client-side parameter validation costs 150 µs an
# item, five times the serialization, and the service validates every request anyway.
_BULK_CONFIG = _RETRY_CONFIG.merge(Config(parameter_validation=False))
_clients: dict[tuple[str, str, str, bool], Any] = {}
_lock = threading.Lock()


def client(service: str, bulk: bool = False) -> Any:
    """A cached client for `service`, one per endpoint and region seen in the environment; `bulk`: without
    client-side parameter validation, for requests of many items built by code."""
    key = (service, os.environ.get("AWS_ENDPOINT_URL", ""), os.environ.get("AWS_REGION", ""), bulk)
    with _lock:
        if key not in _clients:
            _clients[key] = boto3.session.Session().client(service, config=_BULK_CONFIG if bulk else _RETRY_CONFIG)
        return _clients[key]
