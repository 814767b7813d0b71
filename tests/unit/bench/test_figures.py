"""The report's arithmetic: ratios, extrapolation, growth, shares, per-million figures and cost."""

from decimal import Decimal

import pytest

from bench import figures


def test_ratio_is_none_without_a_denominator() -> None:
    assert figures.ratio(30.0, 10.0) == 3.0
    assert figures.ratio(30.0, 0.0) is None
    assert figures.ratio(None, 10.0) is None


def test_extrapolation_is_linear_in_rows() -> None:
    assert figures.extrapolated_seconds(60.0, done=20_000, total=1_000_000) == pytest.approx(3000.0)


def test_growth_exponent_is_one_for_linear_time_and_two_for_quadratic() -> None:
    assert figures.growth_exponent(10**6, 20.0, 10**7, 200.0) == pytest.approx(1.0)
    assert figures.growth_exponent(10**6, 20.0, 10**7, 2000.0) == pytest.approx(2.0)
    assert figures.growth_exponent(10**6, 20.0, 10**7, 100.0) < 1.0


def test_wall_shares_leave_the_rest_to_orchestration() -> None:
    states = {"Register File": 1.0, "Finalize File": 0.5, "Validate File": 2.0, "Transform Chunks": 10.0,
              "Aggregate Totals": 6.0, "Choice": 0.0}

    shares = figures.wall_shares(wall=25.0, upload=1.5, states=states, dynamodb=4.0)

    assert shares == {"upload": 1.5, "orchestration": 4.0, "audit (register, finalize)": 1.5, "validate": 2.0,
                      "parse and Parquet": 10.0, "aggregation": 2.0, "DynamoDB": 4.0}
    assert sum(shares.values()) == pytest.approx(25.0)


def test_per_million_scales_and_classifies_requests() -> None:
    tasks = {"transform_chunk": {"invocations": 2, "seconds": 3.0}, "aggregate": {"invocations": 1, "seconds": 1.0}}
    calls = {"s3.GetObject": 4, "s3.HeadObject": 1, "s3.PutObject": 6, "s3.ListObjectsV2": 2, "s3.DeleteObject": 1,
             "dynamodb.BatchWriteItem": 3, "dynamodb.TransactWriteItems": 1, "dynamodb.PutItem": 1}
    items = {"dynamodb.BatchWriteItem": 60, "dynamodb.TransactWriteItems": 3}

    per = figures.per_million(500_000, tasks, calls, items, transitions=10, parquet_bytes=1000)

    assert per["lambda_invocations"] == 6
    assert per["lambda_gb_seconds"] == 8.0
    assert per["state_transitions"] == 20
    assert per["dynamodb_wru"] == 2 * (60 + 2 * 3 + 1)
    assert (per["s3_put_class"], per["s3_get_class"]) == (16, 10)
    assert per["seconds_transform_chunk"] == 6.0


def test_cost_uses_the_list_prices() -> None:
    per = {"lambda_gb_seconds": 1_000_000, "lambda_invocations": 1_000_000, "state_transitions": 1000,
           "dynamodb_wru": 1_000_000, "s3_put_class": 1000, "s3_get_class": 1000, "parquet_bytes": 1e12}

    cost = figures.cost_per_million(per)

    assert cost["lambda"] == pytest.approx(16.6667 + 0.20)
    assert cost["step_functions"] == pytest.approx(0.025)
    assert cost["dynamodb"] == pytest.approx(0.625)
    assert cost["s3"] == pytest.approx(0.0054)
    assert cost["athena_full_scan"] == pytest.approx(5.0)


def test_totals_match_exactly_or_not_at_all() -> None:
    expected = {"2013-01-01": [48, 12345]}

    assert figures.totals_match(expected, {"2013-01-01": (48, Decimal("12.345000000"))})
    assert not figures.totals_match(expected, {"2013-01-01": (48, Decimal("12.346"))})
    assert not figures.totals_match(expected, {"2013-01-01": (47, Decimal("12.345"))})
    assert not figures.totals_match(expected, {})
