"""Athena (Trino) SQL to DuckDB SQL with sqlglot, plus the one fix sqlglot needs for our SQL."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify
from sqlglot.schema import MappingSchema

_DATE_UNITS = frozenset({"DAY", "WEEK", "MONTH", "QUARTER", "YEAR"})


def placeholder_count(sql: str) -> int:
    """How many positional `?` parameters the Athena statement takes."""
    return sum(1 for _ in sqlglot.parse_one(sql, read="athena").find_all(exp.Placeholder))


def to_duckdb(sql: str, schema: MappingSchema) -> list[str]:
    """The DuckDB statements for Athena SQL; schema holds the tables and views the SQL reads."""
    return [_translate(tree, schema) for tree in sqlglot.parse(sql, read="athena") if tree]


def _translate(tree: exp.Expression, schema: MappingSchema) -> str:
    typed = annotate_types(
        qualify(tree, schema=schema, dialect="athena", quote_identifiers=False, identify=False),
        schema=schema,
        dialect="athena",
    )
    return _keep_dates(typed).sql(dialect="duckdb")


def _keep_dates(tree: exp.Expression) -> exp.Expression:
    """Cast date arithmetic on a DATE back to DATE, as Trino types it (DuckDB gives a TIMESTAMP).

    Trino's date_add and date_trunc on a DATE by days or coarser return a DATE; sqlglot writes DuckDB's
    `d + INTERVAL ...` and `DATE_TRUNC(...)`, which return a TIMESTAMP, so `date_trunc('month', reading_date)`
    would be '2024-03-01' on Athena but '2024-03-01T00:00:00' locally. Innermost calls are fixed first, so
    a call on a fixed call sees a DATE too.
    """
    calls = tree.find_all(exp.DateAdd, exp.DateSub, exp.DateTrunc, exp.TimestampTrunc, bfs=False)
    for call in reversed(list(calls)):
        if call.this.is_type(exp.DataType.Type.DATE) and call.text("unit").upper() in _DATE_UNITS:
            call.replace(exp.cast(call.copy(), exp.DataType.Type.DATE))
    return tree
