"""Faults injected into the emulator, switched on by a JSON plan file that tests write.

The pipeline's code never sees the plan: the emulator reads it on every Lambda invocation and every
DynamoDB BatchWriteItem, and acts as AWS would when the fault really happens. The plan lives at
``$GRIDFLOW_FAULT_PLAN`` (the emulator server sets it to ``.gridflow/faults-<port>.json``) and holds
``{"faults": [...]}``; every fault that fires is appended to ``<plan>.log`` (one JSON object a line).

A fault is a dict with an ``id`` and an ``action``:

Lambda faults (``function`` names the deployed function; ``file_id``, ``chunk`` (Map item index), ``shard``
(Aggregate Shard's shard number), ``attempts`` (1-based, counted per execution and chunk or shard; absent = every
attempt) narrow it down):
  raise    the invocation fails with ``error`` and ``message`` (``{chunk}``, ``{start}``, ``{end}``,
           ``{file_id}``, ``{attempt}`` are filled in); the handler does not run
  crash    the function dies (``Runtime.ExitError``), timeout: it is killed (``Sandbox.Timedout``);
           with ``at_call`` ("dynamodb.BatchWriteItem") and ``call_number`` N, the handler runs and
           dies at its Nth such AWS call: that call and every later one of the invocation fail, as
           in a process that is gone; without ``at_call`` it dies before doing anything
  delay    sleep ``seconds`` before the handler runs (or before its Nth ``at_call``)
  hold     wait before the handler runs until the test takes this fault out of the plan (or ``seconds``)
  barrier  hold the invocation until ``parties`` invocations matching the fault have arrived
           (or ``seconds`` passed), then let them all go at once

DynamoDB faults (server side, as the service answers; ``table``, ``request`` ("PutRequest" or
"DeleteRequest") narrow them down, ``calls`` limits how many requests are hit, absent = all):
  throttle     BatchWriteItem answers ProvisionedThroughputExceededException
  unprocessed  BatchWriteItem returns the items as UnprocessedItems, all of them, or with ``"processed":
               "half"`` all but the first half, which it writes
"""

from __future__ import annotations

import contextvars
import json
import math
import os
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.client
from moto.core.responses import ActionResult
from moto.dynamodb import responses as dynamodb_responses
from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException

PLAN_ENV = "GRIDFLOW_FAULT_PLAN"
LOCAL_DIR = Path(__file__).resolve().parents[2] / ".gridflow"
DATA_SERVICES = frozenset({"s3", "dynamodb", "sns"})  # what handlers call; not the interpreter's lambda/states
DIED = {"crash": ("Runtime.ExitError", "Runtime exited with error: signal: killed"),
        "timeout": ("Sandbox.Timedout", "Task timed out after {timeout:.2f} seconds")}

Fault = dict[str, Any]


def plan_path(port: int) -> Path:
    """Where the emulator on this port reads its fault plan."""
    return LOCAL_DIR / f"faults-{port}.json"


def write_plan(path: Path, faults: list[Fault]) -> None:
    """Switch these faults on (replacing any others); written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"faults": faults}, indent=2))
    os.replace(temporary, path)


def clear_plan(path: Path) -> None:
    """Switch every fault off."""
    path.unlink(missing_ok=True)


def injected(path: Path) -> list[dict[str, Any]]:
    """Every fault that fired so far, oldest first."""
    log = _log_path(path)
    return [json.loads(line) for line in log.read_text().splitlines() if line] if log.exists() else []


class InjectedLambdaError(Exception):
    """How an injected fault ends an invocation: the Lambda error payload's errorType and errorMessage."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


class _ProcessGone(BaseException):
    """Raised at every AWS call of an invocation that crashed: nothing in the handler may catch it."""


# --------------------------------------------------------------------------------------
# The plan and the log
# --------------------------------------------------------------------------------------

_lock = threading.Lock()
_cached: tuple[tuple[int, int], list[Fault]] | None = None
_attempts: dict[tuple[str, str, Any, Any], int] = {}
_server_calls: dict[str, int] = {}
_barriers: dict[str, threading.Barrier] = {}


def _current_plan_path() -> Path | None:
    configured = os.environ.get(PLAN_ENV)
    return Path(configured) if configured else None


def _log_path(path: Path) -> Path:
    return path.with_name(path.name + ".log")


def _faults() -> list[Fault]:
    """The plan's faults, re-read only when the file changed."""
    global _cached
    path = _current_plan_path()
    if path is None or not path.exists():
        return []
    stat = path.stat()
    signature = (stat.st_mtime_ns, stat.st_size)
    with _lock:
        if _cached is None or _cached[0] != signature:
            _cached = (signature, json.loads(path.read_text()).get("faults", []))
        return _cached[1]


def _record(fault: Fault, **details: Any) -> None:
    path = _current_plan_path()
    if path is None:
        return
    entry = {"id": fault.get("id"), "action": fault["action"], "at": time.time(), **details}
    with _lock, _log_path(path).open("a") as log:
        log.write(json.dumps(entry, default=str) + "\n")


# --------------------------------------------------------------------------------------
# Lambda faults
# --------------------------------------------------------------------------------------

@dataclass
class _Invocation:
    """One invocation in the Lambda runtime and the call-level fault armed for it."""

    function: str
    execution: str
    timeout_seconds: int
    fault: Fault | None = None
    calls: int = 0
    gone: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)


_current: contextvars.ContextVar[_Invocation | None] = contextvars.ContextVar("gridflow_invocation", default=None)


def _payload_facts(payload: dict[str, Any]) -> dict[str, Any]:
    file = payload.get("file") or ((payload.get("state") or {}).get("file") or {}).get("value") or {}
    chunk = payload.get("chunk") or {}
    return {"file_id": file.get("file_id"), "chunk": chunk.get("index"), "start": chunk.get("start"),
            "end": chunk.get("end"), "shard": payload.get("shard"), "execution": payload.get("execution", "")}


def _matches(fault: Fault, function: str, facts: dict[str, Any]) -> bool:
    if fault.get("function") != function:
        return False
    return all(fault[name] == facts[name] for name in ("file_id", "chunk", "shard") if name in fault)


def _attempt(fault: Fault, facts: dict[str, Any]) -> int:
    key = (str(fault.get("id")), facts["execution"], facts["chunk"], facts["shard"])
    with _lock:
        _attempts[key] = _attempts.get(key, 0) + 1
        return _attempts[key]


def _armed_faults(function: str, facts: dict[str, Any]) -> list[tuple[Fault, int]]:
    """The faults of the plan that apply to this invocation, in plan order, each with its attempt number."""
    armed = []
    for fault in _faults():
        if fault.get("action") in ("throttle", "unprocessed") or not _matches(fault, function, facts):
            continue
        attempt = _attempt(fault, facts)
        if fault.get("attempts") is None or attempt in fault["attempts"]:
            armed.append((fault, attempt))
    return armed


def _died(action: str, invocation: _Invocation) -> InjectedLambdaError:
    error_type, message = DIED[action]
    request = uuid.uuid4()
    return InjectedLambdaError(error_type, f"RequestId: {request} Error: "
                               + message.format(timeout=invocation.timeout_seconds))


def _wait_at_barrier(fault: Fault) -> bool:
    with _lock:
        barrier = _barriers.setdefault(str(fault["id"]), threading.Barrier(int(fault["parties"])))
    try:
        barrier.wait(timeout=float(fault.get("seconds", 60)))
        return True
    except threading.BrokenBarrierError:
        return False


def _hold(fault: Fault) -> bool:
    """Wait until the fault is out of the plan; False if `seconds` ran out first."""
    deadline = time.monotonic() + float(fault.get("seconds", 300))
    while any(armed.get("id") == fault.get("id") for armed in _faults()):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)
    return True


def _before_handler(fault: Fault, invocation: _Invocation, facts: dict[str, Any], attempt: int) -> None:
    """Act on a fault that fires before the handler runs (call-level faults are armed instead)."""
    action = fault["action"]
    details = {"function": invocation.function, "attempt": attempt, **facts}
    if action == "raise":
        _record(fault, **details)
        raise InjectedLambdaError(fault.get("error", "InjectedFault"),
                                  fault.get("message", "injected fault").format(attempt=attempt, **facts))
    if action in DIED:
        _record(fault, **details)
        raise _died(action, invocation)
    if action == "delay":
        _record(fault, **details)
        time.sleep(float(fault["seconds"]))
    elif action == "barrier":
        _record(fault, all_arrived=_wait_at_barrier(fault), **details)
    elif action == "hold":
        _record(fault, **details)
        _record(fault, released=_hold(fault), **details)


def call(function: str, handler: Callable[[Any, Any], Any], payload: dict[str, Any], context: Any) -> Any:
    """Run one invocation (in the Lambda runtime) with whatever fault the plan arms for it."""
    facts = _payload_facts(payload)
    invocation = _Invocation(function=function, execution=facts["execution"],
                             timeout_seconds=int(getattr(context, "timeout_seconds", 0)))
    for fault, attempt in _armed_faults(function, facts):
        if "at_call" not in fault:
            _before_handler(fault, invocation, facts, attempt)
        elif invocation.fault is None:  # one call-level fault an invocation
            invocation.fault = {**fault, "attempt": attempt, **facts}
    token = _current.set(invocation)
    try:
        return handler(payload, context)
    except _ProcessGone:
        raise _died(invocation.gone, invocation) from None
    finally:
        _current.reset(token)


def _on_aws_call(service: str, operation: str) -> None:
    """Called before every AWS call made by a handler; fires the call-level fault of its invocation."""
    invocation = _current.get()
    if invocation is None or invocation.fault is None or service not in DATA_SERVICES:
        return
    fault = invocation.fault
    with invocation.lock:
        if invocation.gone:
            raise _ProcessGone()
        if fault["at_call"] != f"{service}.{operation}":
            return
        invocation.calls += 1
        if invocation.calls != int(fault.get("call_number", 1)):
            return
        _record(fault, function=invocation.function, call=fault["at_call"], call_number=invocation.calls,
                attempt=fault["attempt"], execution=fault["execution"], file_id=fault["file_id"],
                chunk=fault["chunk"])
        if fault["action"] in DIED:
            invocation.gone = fault["action"]
            raise _ProcessGone()
    if fault["action"] == "delay":
        time.sleep(float(fault["seconds"]))


# --------------------------------------------------------------------------------------
# DynamoDB faults, answered by the emulated service
# --------------------------------------------------------------------------------------

def _batch_faults(body: dict[str, Any]) -> Fault | None:
    """The throttling fault that applies to this BatchWriteItem request, counting it."""
    requests = body.get("RequestItems", {})
    kinds = {next(iter(request)) for items in requests.values() for request in items}
    for fault in _faults():
        if fault.get("action") not in ("throttle", "unprocessed"):
            continue
        if "table" in fault and fault["table"] not in requests or fault.get("request", "") not in kinds | {""}:
            continue
        with _lock:
            hits = _server_calls.get(str(fault["id"]), 0)
            if fault.get("calls") is not None and hits >= int(fault["calls"]):
                continue
            _server_calls[str(fault["id"])] = hits + 1
        _record(fault, operation="BatchWriteItem", tables=sorted(requests), hit=hits + 1)
        return fault
    return None


def _unprocessed(handler: Any, original: Callable[[Any], ActionResult], fault: Fault) -> ActionResult:
    """Write none of the items (or the first half), and hand the rest back as UnprocessedItems."""
    requests = handler.body["RequestItems"]
    share = 0.5 if fault.get("processed") == "half" else 0.0
    processed, unprocessed = {}, {}
    for table, items in requests.items():
        kept = math.ceil(len(items) * share)
        processed[table], unprocessed[table] = items[:kept], items[kept:]
    response: dict[str, Any] = {"ConsumedCapacity": [], "ItemCollectionMetrics": {}}
    if any(processed.values()):
        handler.body["RequestItems"] = {table: items for table, items in processed.items() if items}
        response = dict(original(handler).result)  # type: ignore[arg-type]
    response["UnprocessedItems"] = {table: items for table, items in unprocessed.items() if items}
    return ActionResult(response)


def _patch_batch_write_item() -> None:
    original = dynamodb_responses.DynamoHandler.batch_write_item

    def batch_write_item(self: Any) -> ActionResult:
        fault = _batch_faults(self.body)
        if fault is None:
            return original(self)
        if fault["action"] == "throttle":
            raise DynamodbException(ERROR_TYPE_PREFIX + "ProvisionedThroughputExceededException",
                                    "The level of configured provisioned throughput for the table was exceeded. "
                                    "Consider increasing your provisioning level with the UpdateTable API.")
        return _unprocessed(self, original, fault)

    dynamodb_responses.DynamoHandler.batch_write_item = batch_write_item


# --------------------------------------------------------------------------------------
# Installing the hooks
# --------------------------------------------------------------------------------------

def _patch_client_calls() -> None:
    original = botocore.client.BaseClient._make_api_call

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        _on_aws_call(self.meta.service_model.endpoint_prefix, operation_name)
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = make_api_call


def _patch_thread_pools() -> None:
    """Worker threads a handler starts belong to its invocation (the Lambda runtime is one process)."""
    original = ThreadPoolExecutor.submit

    def submit(self: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return original(self, contextvars.copy_context().run, fn, *args, **kwargs)

    ThreadPoolExecutor.submit = submit  # type: ignore[method-assign]


_installed: set[str] = set()


def install_service_side(port: int) -> None:
    """In moto's process: point the emulator at its plan file and answer DynamoDB faults (idempotent).

    The Lambda runtime, started afterwards, inherits the plan's path from this process's environment.
    """
    with _lock:
        if "service" in _installed:
            return
        os.environ.setdefault(PLAN_ENV, str(plan_path(port)))
        _patch_batch_write_item()
        _installed.add("service")


def install_lambda_side() -> None:
    """In the Lambda runtime: hook the handlers' AWS calls and worker threads (idempotent)."""
    with _lock:
        if "lambda" in _installed:
            return
        _patch_client_calls()
        _patch_thread_pools()
        _installed.add("lambda")
