"""Per-invocation metrics of the emulator's Lambdas, for `make bench`; off unless GRIDFLOW_BENCH_METRICS is set.

With ``GRIDFLOW_BENCH_METRICS=<path>`` in the emulator's environment, every Lambda invocation appends one JSON
line to <path>: function, execution, chunk index, start and end (epoch seconds), duration, the AWS calls the
handler made (``service.operation`` → count; items sent by BatchWriteItem and TransactWriteItems; first start
to last end of each operation) and memory: the Lambda runtime's RSS when the invocation started, the highest RSS
sampled while it ran (every 10 ms) and how many invocations overlapped it (RSS is per process, so overlapping
invocations share it).
Without the variable ``install()`` changes nothing.
"""

from __future__ import annotations

import contextvars
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import botocore.client

if TYPE_CHECKING:
    from gridflow.emulator.lambda_runtime import Invocation, Invoke

METRICS_ENV = "GRIDFLOW_BENCH_METRICS"
SAMPLE_SECONDS = 0.01
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_BYTES


@dataclass
class _Invocation:
    """What one invocation did, filled in while it runs."""

    function: str
    execution: str
    chunk: int | None
    started: float
    rss_start: int
    rss_peak: int
    overlapping: int = 1
    calls: dict[str, int] = field(default_factory=dict)
    spans: dict[str, list[float]] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, operation: str, started: float, ended: float, items: int) -> None:
        with self.lock:
            self.calls[operation] = self.calls.get(operation, 0) + 1
            span = self.spans.setdefault(operation, [started, ended])
            span[0], span[1] = min(span[0], started), max(span[1], ended)
            if items:
                self.items[operation] = self.items.get(operation, 0) + items

    def line(self, ended: float, error: bool) -> str:
        return json.dumps({
            "function": self.function, "execution": self.execution, "chunk": self.chunk,
            "started": self.started, "ended": ended, "seconds": ended - self.started, "error": error,
            "rss_start": self.rss_start, "rss_peak": self.rss_peak, "rss_delta": self.rss_peak - self.rss_start,
            "overlapping": self.overlapping, "calls": self.calls, "spans": self.spans, "items": self.items,
        })


class _Recorder:
    """The running invocations, an RSS sampler thread while any runs, and the output file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._running: set[int] = set()
        self._by_id: dict[int, _Invocation] = {}
        self._wake = threading.Event()
        threading.Thread(target=self._sample, name="invocation-rss", daemon=True).start()

    def begin(self, invocation: _Invocation) -> None:
        with self._lock:
            self._by_id[id(invocation)] = invocation
            self._running.add(id(invocation))
            for other in self._by_id.values():
                other.overlapping = max(other.overlapping, len(self._running))
        self._wake.set()

    def end(self, invocation: _Invocation, error: bool) -> None:
        invocation.rss_peak = max(invocation.rss_peak, _rss_bytes())
        with self._lock:
            self._running.discard(id(invocation))
            del self._by_id[id(invocation)]
            with open(self._path, "a") as out:
                out.write(invocation.line(time.time(), error) + "\n")

    def _sample(self) -> None:
        while True:
            self._wake.wait()
            rss = _rss_bytes()
            with self._lock:
                for invocation in self._by_id.values():
                    invocation.rss_peak = max(invocation.rss_peak, rss)
                if not self._running:
                    self._wake.clear()
            time.sleep(SAMPLE_SECONDS)


_current: contextvars.ContextVar[_Invocation | None] = contextvars.ContextVar("bench_invocation", default=None)


def _payload_facts(event: str) -> tuple[str, int | None]:
    """The execution name and Map chunk index an invocation's payload carries."""
    try:
        payload = json.loads(event) if event else {}
    except ValueError:
        return "", None
    chunk = payload.get("chunk") if isinstance(payload, dict) else None
    execution = payload.get("execution", "") if isinstance(payload, dict) else ""
    return str(execution), chunk.get("index") if isinstance(chunk, dict) else None


def _wrap_invoke(original: Invoke, recorder: _Recorder) -> Invoke:
    def invoke(request: Invocation) -> tuple[str, bool]:
        execution, chunk = _payload_facts(request.event)
        rss = _rss_bytes()
        invocation = _Invocation(function=request.function_name, execution=execution, chunk=chunk,
                                 started=time.time(), rss_start=rss, rss_peak=rss)
        recorder.begin(invocation)
        token = _current.set(invocation)
        errored = True
        try:
            result = original(request)
            errored = result[1]
            return result
        finally:
            _current.reset(token)
            recorder.end(invocation, errored)

    return invoke


def _written_items(operation: str, params: dict[str, Any]) -> int:
    """Items a DynamoDB batch or transaction sends (0 for other calls)."""
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    return len(params.get("TransactItems", [])) if operation == "TransactWriteItems" else 0


def _wrap_api_call(original: Callable[..., Any]) -> Callable[..., Any]:
    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        invocation = _current.get()
        if invocation is None:
            return original(self, operation_name, api_params)
        started = time.time()
        try:
            return original(self, operation_name, api_params)
        finally:
            invocation.count(f"{self.meta.service_model.endpoint_prefix}.{operation_name}", started,
                             time.time(), _written_items(operation_name, api_params))

    return make_api_call


def install(invoke: Invoke) -> Invoke:
    """`invoke`, recording every invocation to $GRIDFLOW_BENCH_METRICS; `invoke` itself when that is unset."""
    path = os.environ.get(METRICS_ENV)
    if not path:
        return invoke
    botocore.client.BaseClient._make_api_call = _wrap_api_call(botocore.client.BaseClient._make_api_call)
    return _wrap_invoke(invoke, _Recorder(path))
