"""One execution at a time nets re-deliveries in a feed: a lease item in the daily_totals table.

Key: pk = "lease#<feed>", sk = "netting" (no totals key starts with "lease#"). Taken with a conditional
PutItem (free, expired, or already held by this execution, so a retried state or the same execution's
Record Failure takes it back after a crash), given back with a conditional DeleteItem. A holder cannot
outlive its lease: LEASE_SECONDS is longer than any gridflow function's timeout.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError

from tasks.adapters.aws_clients import client
from tasks.domain.errors import NettingBusy

LEASE_SECONDS = 330  # the longest task function timeout is 300 s (infra/locals.tf)
WAIT_SECONDS = 10.0  # how long one invocation waits before handing the wait to the state machine's Retry
SORT_KEY = "netting"


def _key(feed: str) -> dict[str, dict[str, str]]:
    return {"pk": {"S": f"lease#{feed}"}, "sk": {"S": SORT_KEY}}


def _try_acquire(table: str, feed: str, owner: str) -> str | None:
    """None when `owner` now holds the lease, else the execution that does."""
    now = int(time.time())
    try:
        client("dynamodb").put_item(
            TableName=table,
            Item={**_key(feed), "owner": {"S": owner}, "expires_at": {"N": str(now + LEASE_SECONDS)},
                  "taken_at": {"N": str(now)}},
            ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #owner = :owner",
            ExpressionAttributeNames={"#owner": "owner"},
            ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        return error.response.get("Item", {}).get("owner", {}).get("S", "another execution")
    return None


def acquire(table: str, feed: str, owner: str, wait_seconds: float = WAIT_SECONDS) -> None:
    """Take the feed's netting lease for `owner`, waiting up to wait_seconds; raise NettingBusy if still held."""
    deadline = time.monotonic() + wait_seconds
    while (holder := _try_acquire(table, feed, owner)) is not None:
        if time.monotonic() >= deadline:
            raise NettingBusy(f"feed {feed}: re-delivery netting is held by execution {holder}")
        time.sleep(random.uniform(0.2, 1.0))


def release(table: str, feed: str, owner: str) -> None:
    """Give the lease back if `owner` still holds it."""
    try:
        client("dynamodb").delete_item(TableName=table, Key=_key(feed), ConditionExpression="#owner = :owner",
                                       ExpressionAttributeNames={"#owner": "owner"},
                                       ExpressionAttributeValues={":owner": {"S": owner}})
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


@contextmanager
def held(table: str, feed: str, owner: str) -> Iterator[None]:
    """The block runs while `owner` holds the feed's netting lease; a crash leaves it to expire or be retaken."""
    acquire(table, feed, owner)
    try:
        yield
    finally:
        release(table, feed, owner)
