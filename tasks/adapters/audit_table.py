"""The audit table: one item per file, one activity item per attempt, error items, key index.

Keys:
  file item:      pk = "file#<file_id>"            sk = "file"
  attempt item:   pk = "file#<file_id>"            sk = "attempt#<started_at>#<execution>"
  error item:     pk = "file#<file_id>"            sk = "error#<at>#<execution>"
  key index:      pk = "key#<bucket>/<key>"        sk = "key"        (which file an inbound key delivered)
Status changes and their attempt item are written together with TransactWriteItems, so the
file item and its activity log never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from tasks.adapters.aws_clients import client

PROCESSING, LOADED, QUARANTINED, FAILED = "PROCESSING", "LOADED", "QUARANTINED", "FAILED"
RETRACTING, RETRACTED = "RETRACTING", "RETRACTED"
FILE_SK = "file"

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _file_pk(file_id: str) -> str:
    return f"file#{file_id}"


def _key_pk(bucket: str, key: str) -> str:
    return f"key#{bucket}/{key}"


def _marshal(document: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in document.items() if value is not None}


def _unmarshal(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _update_expression(fields: dict[str, Any], prefix: str = "f") -> tuple[str, dict[str, str], dict[str, Any]]:
    """`SET #f0 = :f0, ...` for every field (None values are skipped)."""
    parts, names, values = [], {}, {}
    for index, (name, value) in enumerate(item for item in fields.items() if item[1] is not None):
        names[f"#{prefix}{index}"] = name
        values[f":{prefix}{index}"] = _serializer.serialize(value)
        parts.append(f"#{prefix}{index} = :{prefix}{index}")
    return ", ".join(parts), names, values


@dataclass(frozen=True)
class Lease:
    """The outcome of trying to start processing a file."""

    acquired: bool
    file: dict[str, Any]


def get_file(table: str, file_id: str) -> dict[str, Any] | None:
    response = client("dynamodb").get_item(TableName=table, Key=_marshal({"pk": _file_pk(file_id), "sk": FILE_SK}),
                                           ConsistentRead=True)
    return _unmarshal(response["Item"]) if "Item" in response else None


def file_id_for_key(table: str, bucket: str, key: str) -> str | None:
    response = client("dynamodb").get_item(TableName=table, Key=_marshal({"pk": _key_pk(bucket, key), "sk": "key"}),
                                           ConsistentRead=True)
    return _unmarshal(response["Item"])["file_id"] if "Item" in response else None


def acquire(table: str, file: dict[str, Any], execution: str, attempt_sk: str, rerun: bool,
            lease_until: int, now_epoch: int) -> Lease:
    """Take the file for this execution unless it is loaded (and this is no rerun) or leased by another."""
    file_id = file["file_id"]
    at = now_iso()
    static = dict(file)
    set_fields = {"status": PROCESSING, "execution": execution, "lease_until": lease_until,
                  "updated_at": at, "attempt_sk": attempt_sk, "error": "", "error_rule": "", **static}
    expression, names, values = _update_expression(set_fields)
    names.update({"#attempts": "attempts", "#created": "created_at", "#status": "status", "#lease": "lease_until"})
    values.update({":one": {"N": "1"}, ":zero": {"N": "0"}, ":created": {"S": at},
                   ":processing": {"S": PROCESSING}, ":retracting": {"S": RETRACTING}, ":loaded": {"S": LOADED},
                   ":rerun": {"BOOL": rerun}, ":true": {"BOOL": True}, ":now": {"N": str(now_epoch)}})
    update = {
        "TableName": table,
        "Key": _marshal({"pk": _file_pk(file_id), "sk": FILE_SK}),
        "UpdateExpression": f"SET {expression}, #attempts = if_not_exists(#attempts, :zero) + :one, "
                            f"#created = if_not_exists(#created, :created)",
        # a stale lease only frees a file being loaded or retracted (its execution died); a LOADED file
        # needs a rerun
        "ConditionExpression": "attribute_not_exists(pk) OR "
                               "((#status = :processing OR #status = :retracting) AND #lease < :now) OR "
                               "(#status <> :processing AND #status <> :retracting AND "
                               "(#status <> :loaded OR :rerun = :true))",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    attempt = {"pk": _file_pk(file_id), "sk": attempt_sk, "execution": execution, "started_at": at,
               "outcome": PROCESSING, "rerun": rerun, "key": file.get("key")}
    key_index = {"pk": _key_pk(file["bucket"], file["key"]), "sk": "key", "file_id": file_id}
    try:
        client("dynamodb").transact_write_items(TransactItems=[
            {"Update": update},
            {"Put": {"TableName": table, "Item": _marshal(attempt)}},
            {"Put": {"TableName": table, "Item": _marshal(key_index)}},
        ])
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        reasons = error.response.get("CancellationReasons") or [{}]
        if reasons[0].get("Code") != "ConditionalCheckFailed" and "ConditionalCheckFailed" not in str(error):
            raise
        return Lease(acquired=False, file=get_file(table, file_id) or {})
    return Lease(acquired=True, file=get_file(table, file_id) or {})


def begin_retraction(table: str, file_id: str, execution: str, attempt_sk: str, lease_until: int,
                     now_epoch: int) -> bool:
    """Mark the file RETRACTING for this execution and log the retraction as an attempt, unless a load of it
    is running (PROCESSING with a live lease). A retraction that died may be taken over: it is idempotent."""
    at = now_iso()
    expression, names, values = _update_expression({"status": RETRACTING, "execution": execution,
                                                    "lease_until": lease_until, "updated_at": at,
                                                    "attempt_sk": attempt_sk})
    names.update({"#status": "status", "#lease": "lease_until"})
    values.update({":processing": {"S": PROCESSING}, ":now": {"N": str(now_epoch)}})
    attempt = {"pk": _file_pk(file_id), "sk": attempt_sk, "execution": execution, "started_at": at,
               "outcome": RETRACTING, "action": "retract"}
    try:
        client("dynamodb").transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": _marshal({"pk": _file_pk(file_id), "sk": FILE_SK}),
                        "UpdateExpression": f"SET {expression}",
                        "ConditionExpression":
                            "attribute_exists(pk) AND NOT (#status = :processing AND #lease >= :now)",
                        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
            {"Put": {"TableName": table, "Item": _marshal(attempt)}},
        ])
    except ClientError as error:
        if error.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


def finish(table: str, file_id: str, execution: str, attempt_sk: str, status: str,
           fields: dict[str, Any], error: dict[str, Any] | None = None) -> bool:
    """Close the attempt with `status`; returns False if another execution took the file meanwhile."""
    at = now_iso()
    file_fields = {"status": status, "updated_at": at, "lease_until": 0, **fields}
    expression, names, values = _update_expression(file_fields)
    names["#execution"] = "execution"
    values[":execution"] = {"S": execution}
    attempt_fields = {"outcome": status, "finished_at": at, **fields}
    attempt_expression, attempt_names, attempt_values = _update_expression(attempt_fields, prefix="a")
    items: list[dict[str, Any]] = [
        {"Update": {"TableName": table, "Key": _marshal({"pk": _file_pk(file_id), "sk": FILE_SK}),
                    "UpdateExpression": f"SET {expression}", "ConditionExpression": "#execution = :execution",
                    "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}},
        {"Update": {"TableName": table, "Key": _marshal({"pk": _file_pk(file_id), "sk": attempt_sk}),
                    "UpdateExpression": f"SET {attempt_expression}",
                    "ExpressionAttributeNames": attempt_names, "ExpressionAttributeValues": attempt_values}},
    ]
    if error:
        error_item = {"pk": _file_pk(file_id), "sk": f"error#{at}#{execution}", "execution": execution, "at": at,
                      **error}
        items.append({"Put": {"TableName": table, "Item": _marshal(error_item)}})
    try:
        client("dynamodb").transact_write_items(TransactItems=items)
    except ClientError as err:
        if err.response["Error"]["Code"] == "TransactionCanceledException":
            return False
        raise
    return True


def record_duplicate(table: str, file_id: str, execution: str, key: str, status: str) -> None:
    """Log a delivery that was skipped because the same content is loaded or in flight."""
    at = now_iso()
    item = {"pk": _file_pk(file_id), "sk": f"attempt#{at}#{execution}", "execution": execution, "started_at": at,
            "finished_at": at, "outcome": "DUPLICATE", "key": key, "file_status": status}
    client("dynamodb").put_item(TableName=table, Item=_marshal(item))


def record_orphan_error(table: str, execution: str, error: dict[str, Any]) -> None:
    """An error that happened before the file could be identified."""
    at = now_iso()
    item = {"pk": f"execution#{execution}", "sk": f"error#{at}", "execution": execution, "at": at, **error}
    client("dynamodb").put_item(TableName=table, Item=_marshal(item))


def list_files(table: str, status: str | None = None) -> list[dict[str, Any]]:
    """File items, by status through the by_status index, or all of them."""
    dynamodb = client("dynamodb")
    if status:
        pages = dynamodb.get_paginator("query").paginate(
            TableName=table, IndexName="by_status", KeyConditionExpression="#s = :s",
            ExpressionAttributeNames={"#s": "status"}, ExpressionAttributeValues={":s": {"S": status}})
    else:
        pages = dynamodb.get_paginator("scan").paginate(
            TableName=table, FilterExpression="sk = :file", ExpressionAttributeValues={":file": {"S": FILE_SK}})
    return [_unmarshal(item) for page in pages for item in page["Items"]]


def executions_by_file(table: str) -> dict[str, str]:
    """execution name -> file id, for every attempt (loads, reruns and skipped duplicates)."""
    pages = client("dynamodb").get_paginator("scan").paginate(
        TableName=table, FilterExpression="begins_with(sk, :attempt)",
        ExpressionAttributeValues={":attempt": {"S": "attempt#"}}, ProjectionExpression="pk, execution")
    return {item["execution"]["S"]: item["pk"]["S"].removeprefix("file#")
            for page in pages for item in page["Items"] if "execution" in item}


def list_file_items(table: str, file_id: str) -> list[dict[str, Any]]:
    """The file item, its attempts and its errors."""
    pages = client("dynamodb").get_paginator("query").paginate(
        TableName=table, KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": _file_pk(file_id)}})
    return [_unmarshal(item) for page in pages for item in page["Items"]]
