"""The daily_totals table: one item per (feed, meter, day, channel, file), written idempotently.

Keys (see README, "DynamoDB data model"):
  meter-day:  pk = "<feed>#<meter_id>"  sk = "<day>#<channel>#<file_id>"
  feed-day:   pk = "<feed>#*"           sk = "<day>#<channel>#<file_id>"
Writing a file's items again writes the same items, so reruns and retries converge.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, fields
from decimal import Decimal
from itertools import islice
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from tasks.adapters.aws_clients import client
from tasks.domain.errors import TransientError

BATCH_LIMIT = 25
WRITE_THREADS = 8
MAX_BATCH_ROUNDS = 10
ALL_METERS = "*"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


@dataclass(frozen=True)
class DailyTotal:
    feed: str
    meter_id: str
    day: str
    channel: str
    file_id: str
    kwh: Decimal
    readings: int
    anomalies: int
    meters: int = 1
    duplicates: int = 0
    expected: int = 0  # intervals in the local day, per meter: coverage = readings / expected

    def item(self) -> dict[str, Any]:
        return {
            "pk": f"{self.feed}#{self.meter_id}",
            "sk": f"{self.day}#{self.channel}#{self.file_id}",
            "feed": self.feed, "meter_id": self.meter_id, "day": self.day, "channel": self.channel,
            "file_id": self.file_id, "kwh": self.kwh, "readings": self.readings,
            "anomalies": self.anomalies, "meters": self.meters, "duplicates": self.duplicates,
            "expected": self.expected,
        }

    def attribute_values(self) -> dict[str, dict[str, str]]:
        """item() in DynamoDB's wire format; strings and ints directly (TypeSerializer takes 35 µs an item)."""
        return {name: {"S": value} if isinstance(value, str) else {"N": str(value)} if isinstance(value, int)
                else _serializer.serialize(value)  # the Decimal: checked against DynamoDB's 38 digits
                for name, value in self.item().items()}


def _batches(requests: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    pending = iter(requests)
    while batch := list(islice(pending, BATCH_LIMIT)):
        yield batch


def _write_batch(table: str, batch: list[dict[str, Any]]) -> None:
    """One BatchWriteItem, re-sending UnprocessedItems with exponential backoff."""
    pending = {table: batch}
    for attempt in range(MAX_BATCH_ROUNDS):
        response = client("dynamodb", bulk=True).batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise TransientError(f"{table}: {len(pending[table])} items still unprocessed after {MAX_BATCH_ROUNDS} rounds")


def _run_batches(table: str, requests: Iterable[dict[str, Any]], threads: int = WRITE_THREADS) -> int:
    """At most `threads` BatchWriteItem requests in flight (the function's share of the table's capacity). The
    requests are built as they are sent: memory holds a few batches, never all of a shard's items; the first
    failed batch stops the sending and is raised."""
    threads, sent, in_flight = max(1, threads), 0, set()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for batch in _batches(requests):
            if len(in_flight) >= 2 * threads:
                done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    future.result()
            in_flight.add(pool.submit(_write_batch, table, batch))
            sent += len(batch)
        for future in in_flight:
            future.result()
    return sent


def put_totals(table: str, totals: Iterable[DailyTotal], threads: int = WRITE_THREADS) -> int:
    """Write every total with BatchWriteItem (25 a request, `threads` in parallel); returns the item count."""
    return _run_batches(table, ({"PutRequest": {"Item": t.attribute_values()}} for t in totals), threads)


def delete_file_totals(table: str, keys: Iterable[tuple[str, str]]) -> int:
    """Delete items by (pk, sk)."""
    return _run_batches(table, ({"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}} for pk, sk in keys))


def query_days(table: str, feed: str, meter_id: str, first_day: str, last_day: str) -> list[dict[str, Any]]:
    """Every contribution item of one meter (or ALL_METERS) between two days, inclusive."""
    paginator = client("dynamodb").get_paginator("query")
    pages = paginator.paginate(
        TableName=table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :first AND :last",
        ExpressionAttributeValues={":pk": {"S": f"{feed}#{meter_id}"}, ":first": {"S": f"{first_day}#"},
                                   ":last": {"S": f"{last_day}#\uffff"}},
    )
    return [{k: _deserializer.deserialize(v) for k, v in item.items()} for page in pages for item in page["Items"]]


def stored_total(item: dict[str, Any]) -> DailyTotal:
    """The DailyTotal of an item that query_days returned (DynamoDB numbers back to int where they are)."""
    return DailyTotal(**{spec.name: int(item[spec.name]) if spec.type == "int" else item[spec.name]
                         for spec in fields(DailyTotal) if spec.name in item})


def file_totals(table: str, feed: str, file_id: str, meters: Iterable[str], first_day: str,
                last_day: str) -> list[DailyTotal]:
    """One file's meter-day items of these meters between two days (a Query a meter, in parallel)."""
    def of_meter(meter_id: str) -> list[DailyTotal]:
        items = query_days(table, feed, meter_id, first_day, last_day)
        return [stored_total(item) for item in items if item["file_id"] == file_id]

    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        return [total for totals in pool.map(of_meter, sorted(set(meters))) for total in totals]
