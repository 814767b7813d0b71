"""What a report needs from a SQL engine: LocalAthena and AwsAthena both fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from gridflow.sql._translate import placeholder_count

Row = dict[str, object]


class SqlEngine(Protocol):
    """Runs a SQL file from athena/ with positional parameters and returns its rows."""

    def run(self, sql_name: str, params: Sequence[object] = ()) -> list[Row]: ...


def check_params(sql_name: str, sql: str, params: Sequence[object]) -> None:
    """Raise ValueError unless params has one value per `?` of the statement."""
    expected = placeholder_count(sql)
    if len(params) != expected:
        raise ValueError(f"{sql_name} takes {expected} parameters, got {len(params)}")
