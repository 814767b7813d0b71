"""Text values to exact kWh: which are missing, not numbers, too precise or out of range."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from tasks.domain.feed_spec import FeedSpec
from tasks.domain.reading_schema import KWH_TYPE

NUMBER = r"^[+-]?(\d{1,12}(\.\d{0,12})?|\.\d{1,12})$"
LONG_NUMBER = r"^[+-]?(\d+(\.\d*)?|\.\d+)$"
_WIDE = pa.decimal128(24, 12)


@dataclass(frozen=True)
class Values:
    """kWh for every input value (0 where invalid), the rule each value broke (null when none), and the
    values that are negative or outside the feed's range (rejected or flagged as the feed's checks say)."""

    kwh: pa.Array
    rule: pa.Array
    negative: pa.Array
    outside_range: pa.Array


def _first_rule(checks: list[tuple[str, pa.Array]], length: int) -> pa.Array:
    """For each row the first rule whose mask is true, in the order given, else null."""
    rule = pa.nulls(length, pa.string())
    for name, broken in reversed(checks):
        rule = pc.if_else(pc.fill_null(broken, False), pa.scalar(name), rule)
    return rule


def _decimal_scalar(value: Decimal) -> pa.Scalar:
    """The smallest decimal type that holds value exactly, so products stay within 38 digits."""
    _, digits, exponent = value.as_tuple()
    scale = max(0, -int(exponent))
    precision = max(len(digits) + max(0, int(exponent)), scale + 1)
    return pa.scalar(value, pa.decimal128(precision, scale))


def to_kwh(spec: FeedSpec, text: pa.Array) -> Values:
    """Exact decimal arithmetic throughout: a value is never rounded; one that would need it is rejected."""
    missing = pc.is_in(text, value_set=pa.array(list(spec.missing_values), pa.string()))
    number = pc.match_substring_regex(text, NUMBER)
    long_number = pc.match_substring_regex(text, LONG_NUMBER)
    parsed = pc.cast(pc.if_else(number, text, pa.scalar("0")), _WIDE)
    factor = spec.kwh_factor
    if factor != 1:
        parsed = pc.multiply(parsed, _decimal_scalar(factor))
    kwh = pc.cast(parsed, KWH_TYPE, safe=False)
    inexact = pc.or_(pc.invert(pc.equal(pc.cast(kwh, parsed.type), parsed)),
                     pc.match_substring_regex(text, r"\.\d{13,}$"))
    too_big = pc.and_(long_number, pc.invert(number))
    checks = [("missing_value", missing), ("non_numeric", pc.invert(long_number)), ("precision", inexact),
              ("out_of_range", too_big)]
    outside = pa.repeat(pa.scalar(False), len(text))
    if spec.min_kwh is not None:
        outside = pc.or_(outside, pc.less(kwh, pa.scalar(spec.min_kwh, KWH_TYPE)))
    if spec.max_kwh is not None:
        outside = pc.or_(outside, pc.greater(kwh, pa.scalar(spec.max_kwh, KWH_TYPE)))
    return Values(kwh=kwh, rule=_first_rule(checks, len(text)), negative=pc.less(kwh, pa.scalar(0, KWH_TYPE)),
                  outside_range=outside)


def describe(rule: str, column: str, text: str, spec: FeedSpec) -> str:
    """A reason a person can act on, naming the column, the value and the limit."""
    if rule == "missing_value":
        return f"{column} is missing ({text!r})"
    if rule == "non_numeric":
        return f"{column} is {text!r}, not a number"
    if rule == "precision":
        return f"{column} is {text!r}: more than {KWH_TYPE.scale} decimal places of kWh would be lost"
    if rule == "negative":
        return f"{column} is {text!r}: negative on a channel that cannot be negative"
    if rule == "out_of_range":
        return (f"{column} is {text!r}: outside the feed's range "
                f"[{_limit(spec.min_kwh)}, {_limit(spec.max_kwh)}] kWh")
    return f"{column} is {text!r} ({rule})"


def _limit(value: Decimal | None) -> str:
    return "-inf" if value is None else str(value)
