"""Peak memory of one task invocation on its own: the handler re-run in a fresh process, as a Lambda would.

In the emulator every handler shares the Lambda runtime process (and the Map's chunks run at once), so its RSS cannot tell
one invocation from another. This re-runs one invocation of the execution (its exact payload, from the
execution history) in a new Python process with the function's environment, and reports that process's peak
RSS: imports, runtime and the work, which is what Lambda reports as "Max Memory Used". Every task write is
keyed, so running an invocation again writes the same objects and items.
`python -m bench.memory_probe` is the child: it reads {"handler", "environment", "payload"} from stdin.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

from bench import task_metrics
from gridflow.stack import Stack


def scheduled_payloads(events: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(function ARN, payload) of every Lambda task the execution scheduled, in order."""
    scheduled = []
    for event in events:
        details = event.get("taskScheduledEventDetails")
        if details and details.get("resourceType") == "lambda":
            parameters = json.loads(details["parameters"])
            scheduled.append((parameters["FunctionName"], parameters["Payload"]))
    return scheduled


def _archived(stack: Stack, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its file pointing at the original's archived copy (Finalize moved it out of inbound/)."""
    file = payload.get("file")
    if not isinstance(file, dict) or "file_id" not in file:
        return payload
    pages = stack.client("s3").get_paginator("list_objects_v2").paginate(
        Bucket=stack.data_bucket, Prefix="raw/")
    suffix = f"{file['file_id']}/{file['name']}"
    archived = [item["Key"] for page in pages for item in page.get("Contents", []) if item["Key"].endswith(suffix)]
    return {**payload, "file": {**file, "source_key": archived[0]}} if archived else payload


def peak_rss(stack: Stack, function: str, payload: dict[str, Any]) -> int:
    """Bytes of peak RSS of a fresh process running this function's handler on this payload."""
    payload = _archived(stack, payload)
    config = stack.client("lambda").get_function_configuration(FunctionName=function)
    request = {"handler": config["Handler"], "payload": payload,
               "environment": {**config.get("Environment", {}).get("Variables", {}),
                               "AWS_ENDPOINT_URL": stack.endpoint or ""}}
    done = subprocess.run([sys.executable, "-m", "bench.memory_probe"], input=json.dumps(request),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe of {function} failed:\n{done.stderr[-3000:]}")
    return int(done.stdout.split()[-1])


def _run(request: dict[str, Any]) -> int:
    os.environ.update(request["environment"])
    module_name, _, function_name = request["handler"].rpartition(".")
    handler = getattr(importlib.import_module(module_name), function_name)
    context = SimpleNamespace(function_name="memory-probe", function_version="$LATEST", memory_limit_in_mb=1024,
                              invoked_function_arn="arn:aws:lambda:local:0:function:memory-probe",
                              aws_request_id="memory-probe", get_remaining_time_in_millis=lambda: 300_000)
    handler(request["payload"], context)
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


AGGREGATE_STEPS = {"aggregate": "aggregate_totals", "shard": "aggregate_shard", "commit": "commit_feed_totals"}
PROBED = ("transform_chunk", "aggregate_totals", "aggregate_shard", "commit_feed_totals")


def _probe_name(function: str, payload: dict[str, Any]) -> str:
    """The task of an invocation; the Aggregate function's three steps (event "step") are told apart:
    aggregate_totals (unsharded, or the planning call), aggregate_shard, commit_feed_totals."""
    task = task_metrics.task_name(function.rsplit(":", 1)[-1])
    return AGGREGATE_STEPS[payload.get("step", "aggregate")] if task == "aggregate" else task


def _shard_meter_days(events: list[dict[str, Any]]) -> dict[int, int]:
    """Meter-days of each Aggregate Shard, from its result in the history."""
    sizes: dict[int, int] = {}
    for event in events:
        details = event.get("taskSucceededEventDetails")
        if details and details.get("resourceType") == "lambda":
            payload = json.loads(details.get("output") or "{}").get("Payload")
            if isinstance(payload, dict) and "shard" in payload and "meter_days" in payload:
                sizes[int(payload["shard"])] = int(payload["meter_days"])
    return sizes


def _largest_payloads(events: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, Any]]]:
    """Per task, its largest invocation: the widest chunk for transform_chunk, the shard with the most
    meter-days for aggregate_shard (the only invocation of the others)."""
    shard_sizes = _shard_meter_days(events)

    def size(payload: dict[str, Any]) -> int:
        if payload.get("step") == "shard":
            return shard_sizes.get(int(payload["shard"]), 0)
        chunk = payload.get("chunk") or {}
        return int(chunk.get("end", 0)) - int(chunk.get("start", 0))

    largest: dict[str, tuple[str, dict[str, Any]]] = {}
    for function, payload in scheduled_payloads(events):
        task = _probe_name(function, payload)
        if task not in largest or size(payload) > size(largest[task][1]):
            largest[task] = (function, payload)
    return largest


def probe_largest(stack: Stack, events: list[dict[str, Any]]) -> dict[str, int]:
    """Peak RSS of the largest invocation of transform_chunk and of each Aggregate step, each re-run alone in a
    fresh process, in the execution's order (the plan rewrites the shards' inputs, the commit gives the lease back)."""
    largest = _largest_payloads(events)
    return {task: peak_rss(stack, *largest[task]) for task in PROBED if task in largest}


if __name__ == "__main__":
    print(_run(json.load(sys.stdin)))
