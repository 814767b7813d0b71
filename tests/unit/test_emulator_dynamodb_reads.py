"""Emulator patch 6 (gridflow/emulator/moto_patches.py) on moto's in-process DynamoDB: a Query reads its own
partition only, so a write to another partition during it (which made moto answer HTTP 500, "dictionary changed
size during iteration", on a table of a million items) cannot disturb it, and its answers stay DynamoDB's."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from gridflow.emulator import moto_patches
from tasks.adapters.aws_clients import client
from tests.unit.conftest import REGION

TABLE = "gridflow-test-totals"
PARTITIONS = {f"feed#{meter}": [f"2013-01-{day:02d}#import#file{n}" for day in range(1, 8) for n in range(2)]
              for meter in ("m1", "m2", "m3")}


class WrittenDuringEveryIteration(defaultdict):  # type: ignore[type-arg]
    """A table's partitions as another request sees them while it writes: iterating all of them fails."""

    def values(self) -> Any:
        raise RuntimeError("dictionary changed size during iteration")

    def __iter__(self) -> Any:
        raise RuntimeError("dictionary changed size during iteration")


@pytest.fixture
def dynamodb(in_process_aws: str) -> Any:
    moto_patches.patch_dynamodb_reads()
    dynamodb = client("dynamodb")
    dynamodb.create_table(TableName=TABLE, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                {"AttributeName": "sk", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                     {"AttributeName": "sk", "KeyType": "RANGE"}])
    for pk, sks in PARTITIONS.items():
        for sk in sks:
            dynamodb.put_item(TableName=TABLE, Item={"pk": {"S": pk}, "sk": {"S": sk}})
    return dynamodb


def query_all(dynamodb: Any, **conditions: Any) -> list[str]:
    pages = dynamodb.get_paginator("query").paginate(TableName=TABLE, PaginationConfig={"PageSize": 3}, **conditions)
    return [item["sk"]["S"] for page in pages for item in page["Items"]]


def test_a_query_answers_as_dynamodb_does(dynamodb: Any) -> None:
    between = query_all(dynamodb, KeyConditionExpression="pk = :pk AND sk BETWEEN :a AND :b",
                        ExpressionAttributeValues={":pk": {"S": "feed#m2"}, ":a": {"S": "2013-01-03"},
                                                   ":b": {"S": "2013-01-05~"}}, ScanIndexForward=False)
    assert between == sorted((sk for sk in PARTITIONS["feed#m2"] if "2013-01-03" <= sk <= "2013-01-05~"),
                             reverse=True)
    assert query_all(dynamodb, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": "feed#m1"}}) == sorted(PARTITIONS["feed#m1"])
    assert query_all(dynamodb, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": "feed#none"}}) == []
    scanned = [item["sk"]["S"] for item in dynamodb.scan(TableName=TABLE)["Items"]]
    assert sorted(scanned) == sorted(sk for sks in PARTITIONS.values() for sk in sks)


def test_a_query_never_iterates_the_other_partitions(dynamodb: Any) -> None:
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(TABLE)
    table.items = WrittenDuringEveryIteration(dict, table.items)
    assert query_all(dynamodb, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": "feed#m3"}}) == sorted(PARTITIONS["feed#m3"])
