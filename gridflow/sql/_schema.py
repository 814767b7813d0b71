"""The readings table's schema, read from glue/readings.json (the single source of truth)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

GLUE_TABLE = Path(__file__).resolve().parents[2] / "glue" / "readings.json"

_ARROW_TYPES: dict[exp.DataType.Type, pa.DataType] = {
    exp.DataType.Type.VARCHAR: pa.string(),
    exp.DataType.Type.TEXT: pa.string(),
    exp.DataType.Type.INT: pa.int32(),
    exp.DataType.Type.BIGINT: pa.int64(),
    exp.DataType.Type.DOUBLE: pa.float64(),
    exp.DataType.Type.BOOLEAN: pa.bool_(),
    exp.DataType.Type.DATE: pa.date32(),
    exp.DataType.Type.TIMESTAMP: pa.timestamp("us"),
}


@cache
def glue_table() -> dict[str, Any]:
    """The parsed glue/readings.json."""
    return json.loads(GLUE_TABLE.read_text(encoding="utf-8"))


def arrow_type(glue_type: str) -> pa.DataType:
    """Arrow type of a Glue (Hive) column type such as "string" or "decimal(18,6)"."""
    parsed = exp.DataType.build(glue_type, dialect="hive")
    if parsed.this == exp.DataType.Type.DECIMAL:
        precision, scale = (int(param.name) for param in parsed.expressions)
        return pa.decimal128(precision, scale)
    return _ARROW_TYPES[parsed.this]


def _arrow_schema(columns: list[dict[str, str]]) -> pa.Schema:
    return pa.schema([(column["name"], arrow_type(column["type"])) for column in columns])


def partition_schema() -> pa.Schema:
    """The Hive partition keys (feed, reading_date) with their types."""
    return _arrow_schema(glue_table()["partition_keys"])


def table_schema() -> pa.Schema:
    """Data columns then partition keys, as Athena shows the table."""
    table = glue_table()
    return _arrow_schema(table["columns"] + table["partition_keys"])
