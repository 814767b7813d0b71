"""failure_cause reads what a Catch caught: a Lambda error payload, plain text, or either behind the chunk or shard
prefix that the ingest Maps' "Chunk Failed" and "Shard Failed" states add."""

from __future__ import annotations

import json

import pytest

from tasks.steps.failure_cause import FailureCause, failure_cause


def _lambda_cause(error_type: str, message: str) -> str:
    return json.dumps({"errorType": error_type, "errorMessage": message, "stackTrace": []})


@pytest.mark.parametrize(("caught", "expected"), [
    ({"Error": "TransientError", "Cause": _lambda_cause("TransientError", "SlowDown: reduce your rate")},
     FailureCause("TransientError", "SlowDown: reduce your rate", "TransientError")),
    ({"Error": "InvalidFile", "Cause": _lambda_cause("InvalidFile", "merge_conflict: line 3 is a marker")},
     FailureCause("InvalidFile", "line 3 is a marker", "merge_conflict")),
    ({"Error": "Sandbox.Timedout", "Cause": "Task timed out after 300.00 seconds"},
     FailureCause("Sandbox.Timedout", "Task timed out after 300.00 seconds", "Sandbox.Timedout")),
    ({"Error": "KeyError",
      "Cause": "chunk 7 (bytes 344255-393418): " + _lambda_cause("KeyError", "'kwh'")},
     FailureCause("KeyError", "'kwh'", "KeyError", "chunk 7 (bytes 344255-393418)")),
    ({"Error": "InvalidFile",
      "Cause": "chunk 2 (bytes 10-20): " + _lambda_cause("InvalidFile", "not_utf8: byte 0xff at line 9")},
     FailureCause("InvalidFile", "byte 0xff at line 9", "not_utf8", "chunk 2 (bytes 10-20)")),
    ({"Error": "Sandbox.Timedout", "Cause": "chunk 0 (bytes 0-99): Task timed out after 300.00 seconds"},
     FailureCause("Sandbox.Timedout", "Task timed out after 300.00 seconds", "Sandbox.Timedout",
                  "chunk 0 (bytes 0-99)")),
    ({"Error": "Runtime.ExitError",
      "Cause": "shard 1 of 3: " + _lambda_cause("Runtime.ExitError", "Runtime exited with error: signal: killed")},
     FailureCause("Runtime.ExitError", "Runtime exited with error: signal: killed", "Runtime.ExitError",
                  shard="shard 1 of 3")),
    (None, FailureCause("Unknown", "", "Unknown")),
], ids=["lambda error", "invalid file rule", "plain text", "chunk + lambda error", "chunk + invalid file",
        "chunk + plain text", "shard + lambda error", "nothing caught"])
def test_failure_cause_reads_the_error_the_rule_and_the_chunk(caught: dict | None, expected: FailureCause) -> None:
    assert failure_cause(caught) == expected


def test_the_audit_names_the_chunk_only_when_a_map_item_failed() -> None:
    located = failure_cause({"Error": "E", "Cause": "chunk 3 (bytes 5-9): boom"}).as_audit()
    assert located == {"error_type": "E", "rule": "E", "reason": "boom", "chunk": "chunk 3 (bytes 5-9)"}
    assert "chunk" not in failure_cause({"Error": "E", "Cause": "boom"}).as_audit()
    shard = failure_cause({"Error": "E", "Cause": "shard 0 of 2: boom"}).as_audit()
    assert shard == {"error_type": "E", "rule": "E", "reason": "boom", "shard": "shard 0 of 2"}
    assert "shard" not in failure_cause({"Error": "E", "Cause": "shard: boom"}).as_audit()
