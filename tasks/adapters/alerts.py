"""Alerts to the operators' SNS topic."""

from __future__ import annotations

import json
from typing import Any

from tasks.adapters.aws_clients import client


def publish(topic_arn: str, subject: str, details: dict[str, Any]) -> None:
    if topic_arn:
        client("sns").publish(TopicArn=topic_arn, Subject=subject[:100], Message=json.dumps(details, default=str))
