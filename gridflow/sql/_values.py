"""Result values as both engines return them: Decimal, int, float, bool, str; dates and times as ISO strings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from decimal import Decimal


def plain(value: object) -> object:
    """A DuckDB value with dates, timestamps and times as ISO 8601 strings."""
    if isinstance(value, (date, time)):  # datetime is a date
        return value.isoformat()
    return value


_ATHENA_PARSERS: dict[str, Callable[[str], object]] = {
    "tinyint": int,
    "smallint": int,
    "integer": int,
    "bigint": int,
    "decimal": Decimal,
    "double": float,
    "real": float,
    "float": float,
    "boolean": lambda text: text == "true",
    "date": lambda text: date.fromisoformat(text).isoformat(),
    "timestamp": lambda text: datetime.fromisoformat(text).isoformat(),
}


def from_athena(text: str | None, athena_type: str) -> object:
    """A GetQueryResults cell (VarCharValue, absent for NULL) as the Python value of its column type.

    Types without a parser here (varchar, char, arrays, maps, ...) stay the text Athena sent.
    """
    if text is None:
        return None
    return _ATHENA_PARSERS.get(athena_type.lower(), str)(text)
