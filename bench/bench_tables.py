"""DynamoDB tables of the bench's own loaders, created in the same emulator as gridflow's (pk/sk, on-demand)."""

from __future__ import annotations

from typing import Any


def create_table(dynamodb: Any, name: str) -> str:
    """Create (or recreate empty) a pk/sk string-keyed on-demand table; returns its name."""
    if name in dynamodb.list_tables()["TableNames"]:
        dynamodb.delete_table(TableName=name)
        dynamodb.get_waiter("table_not_exists").wait(TableName=name)
    dynamodb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "sk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
    )
    dynamodb.get_waiter("table_exists").wait(TableName=name)
    return name
