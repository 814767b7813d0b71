"""The curated readings schema, read from glue/readings.json so Glue, Athena and the Parquet agree."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pyarrow as pa

GLUE_SCHEMA = Path(__file__).resolve().parents[2] / "glue" / "readings.json"
_SIMPLE_TYPES = {"string": pa.string(), "timestamp": pa.timestamp("us"), "int": pa.int32(),
                 "bigint": pa.int64(), "date": pa.date32()}


def arrow_type(glue_type: str) -> pa.DataType:
    """The Arrow type gridflow writes for a Glue column type."""
    if glue_type.startswith("decimal("):
        precision, scale = glue_type[len("decimal("):-1].split(",")
        return pa.decimal128(int(precision), int(scale))
    return _SIMPLE_TYPES[glue_type]


@lru_cache(maxsize=1)
def _document() -> dict:
    return json.loads(GLUE_SCHEMA.read_text(encoding="utf-8"))


def readings_schema() -> pa.Schema:
    """The columns of a curated Parquet object (the partition keys live in the key, not the file)."""
    return pa.schema([pa.field(column["name"], arrow_type(column["type"])) for column in _document()["columns"]])


KWH_TYPE = readings_schema().field("kwh").type


def partition_keys() -> list[str]:
    return [column["name"] for column in _document()["partition_keys"]]


def parsed_schema() -> pa.Schema:
    """A parsed chunk's readings: the curated columns plus reading_date, which picks the partition."""
    return readings_schema().append(pa.field("reading_date", pa.date32()))


REJECTED_SCHEMA = pa.schema([("source_line", pa.int64()), ("rule", pa.string()), ("reason", pa.string()),
                             ("raw", pa.string())])
