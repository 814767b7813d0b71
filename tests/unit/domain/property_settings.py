"""Hypothesis settings of the property tests: bounded, and derandomized so every run tries the same examples."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, settings

DEADLINE = timedelta(seconds=10)  # generous: the machine is shared; the example counts keep the suite fast


def bounded(max_examples: int) -> settings:
    return settings(max_examples=max_examples, deadline=DEADLINE, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
