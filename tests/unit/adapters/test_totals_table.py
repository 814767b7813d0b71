"""DailyTotal's wire format: what BatchWriteItem sends is what boto3's TypeSerializer would send."""

from __future__ import annotations

from decimal import Decimal

import pytest
from boto3.dynamodb.types import TypeSerializer

from tasks.adapters.totals_table import ALL_METERS, DailyTotal


@pytest.mark.parametrize("total", [
    DailyTotal("lcl", "MAC000002", "2013-01-01", "import", "0123abcd", Decimal("12.345"), 48, 0, expected=48),
    DailyTotal("lcl", ALL_METERS, "2013-03-31", "export", "0123abcd", Decimal("-0.000000001"), 4_600, 3, meters=97,
               duplicates=2, expected=4_600),
    DailyTotal("esb", "10306268587", "2023-10-29", "import", "ffff", Decimal("0"), 0, 0),
    DailyTotal("esb", "m", "2023-10-29", "import", "ffff", Decimal("1E+3"), 1, 0),
])
def test_attribute_values_are_the_type_serializers_items(total: DailyTotal) -> None:
    serializer = TypeSerializer()
    assert total.attribute_values() == {name: serializer.serialize(value) for name, value in total.item().items()}


def test_a_kwh_with_more_digits_than_dynamodb_keeps_is_refused() -> None:
    total = DailyTotal("lcl", "m", "2013-01-01", "import", "f", Decimal("1." + "1" * 40), 1, 0)
    with pytest.raises(Exception, match="Rounded|Inexact"):
        total.attribute_values()
