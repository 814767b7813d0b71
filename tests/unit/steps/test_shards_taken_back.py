"""Record Failure leaves the meter-day items to Take Back Shards only when every shard of the load was taken back."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.steps.record_failure import shards_taken_back

SHARDED = {"value": {"sharded": True, "shard_count": 3, "shards": [0, 1, 2]}}
RESULTS = [{"shard": shard, "items_deleted": 10 + shard} for shard in range(3)]


@pytest.mark.parametrize(("state", "expected"), [
    ({"totals": SHARDED, "taken_back": RESULTS}, RESULTS),
    ({"totals": SHARDED, "taken_back": RESULTS[:2]}, None),
    ({"totals": SHARDED, "take_back_error": {"Error": "States.TaskFailed"}}, None),
    ({"totals": SHARDED, "taken_back": [*RESULTS[:2], {"shard": 2, "error": {"Error": "TransientError"}}]}, None),
    ({"totals": {"value": {"sharded": False, "meter_days": 4}}}, None),
    ({"error": {"Error": "TransientError"}}, None),
], ids=["every shard", "a shard missing", "take back failed", "a shard failed", "not sharded", "before aggregation"])
def test_the_meter_days_are_left_to_the_shards_only_when_all_ran(state: dict[str, Any],
                                                                 expected: list[dict[str, Any]] | None) -> None:
    assert shards_taken_back(state) == expected
