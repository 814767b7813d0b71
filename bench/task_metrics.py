"""The emulator's per-invocation metrics (GRIDFLOW_BENCH_METRICS lines) summed per task for one execution."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FUNCTION_PREFIX = "gridflow-dev-"


@dataclass
class TaskSummary:
    """One task's invocations in an execution."""

    task: str
    invocations: int = 0
    seconds: float = 0.0
    seconds_max: float = 0.0
    rss_delta_max: int = 0
    overlapping_max: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def seconds_mean(self) -> float:
        return self.seconds / self.invocations if self.invocations else 0.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "seconds_mean": self.seconds_mean}


def read_invocations(path: Path, execution: str) -> list[dict[str, Any]]:
    """The invocations the emulator recorded for one execution (by its name)."""
    if not path.exists():
        return []
    lines = (json.loads(line) for line in path.read_text().splitlines() if line)
    return [line for line in lines if line["execution"] == execution]


def task_name(function: str) -> str:
    """`gridflow-dev-transform-chunk` -> `transform_chunk`."""
    return function.removeprefix(FUNCTION_PREFIX).replace("-", "_")


def summarize(invocations: list[dict[str, Any]]) -> dict[str, TaskSummary]:
    """Per task: invocations, seconds, largest RSS growth and overlap, AWS calls."""
    tasks: dict[str, TaskSummary] = {}
    for line in invocations:
        summary = tasks.setdefault(task_name(line["function"]), TaskSummary(task_name(line["function"])))
        summary.invocations += 1
        summary.seconds += line["seconds"]
        summary.seconds_max = max(summary.seconds_max, line["seconds"])
        summary.rss_delta_max = max(summary.rss_delta_max, line["rss_delta"])
        summary.overlapping_max = max(summary.overlapping_max, line["overlapping"])
        summary.calls = dict(Counter(summary.calls) + Counter(line["calls"]))
    return tasks


def total_calls(tasks: dict[str, TaskSummary]) -> dict[str, int]:
    """AWS calls of every task together, by service.operation."""
    totals: Counter[str] = Counter()
    for summary in tasks.values():
        totals.update(summary.calls)
    return dict(totals)


def written_items(invocations: list[dict[str, Any]]) -> dict[str, int]:
    """DynamoDB items sent per operation by every task (re-sent UnprocessedItems count again, as AWS bills them)."""
    totals: Counter[str] = Counter()
    for line in invocations:
        totals.update(line["items"])
    return dict(totals)


def operation_span(invocations: list[dict[str, Any]], task: str, operation: str) -> float:
    """Seconds from the first start to the last end of one operation's calls in a task's (parallel) invocations."""
    spans = [line["spans"][operation] for line in invocations
             if task_name(line["function"]) == task and operation in line["spans"]]
    return max(end for _, end in spans) - min(start for start, _ in spans) if spans else 0.0

