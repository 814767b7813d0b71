"""The ingest state machine's paths, with every Lambda mocked through a Step Functions Local MockConfigFile.

The definition is the real statemachines/ingest.asl.json; moto's interpreter runs it on the emulator and
the test case named after `#` in the ARN supplies each Task's responses (see mock_config/).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from gridflow.emulator.process import EmulatorProcess
from tests.integration.sfn_helpers import entered_states, history, output_of, render_definition, wait_for_execution

MOCK_CONFIG = Path(__file__).parent / "mock_config" / "ingest_mock_config.json"
MACHINE = "gridflow-test-ingest"


@pytest.fixture(scope="module")
def sfn() -> Iterator[object]:
    with EmulatorProcess(extra_env={"SFN_MOCK_CONFIG": str(MOCK_CONFIG)}) as emulator:
        client = boto3.client("stepfunctions", endpoint_url=emulator.endpoint, region_name="eu-west-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")
        yield client


@pytest.fixture(scope="module")
def machine_arn(sfn: object) -> str:
    return sfn.create_state_machine(name=MACHINE, definition=render_definition(),
                                    roleArn="arn:aws:iam::123456789012:role/test-ingest")["stateMachineArn"]


def _run(sfn: object, machine_arn: str, test_case: str) -> tuple[dict, list[dict]]:
    """Given the test case, when the machine runs on an S3 event, then return its description and history."""
    event = {"detail": {"bucket": {"name": "gridflow-test-data"}, "object": {"key": "inbound/lcl_halfhourly/a.csv"}}}
    arn = sfn.start_execution(stateMachineArn=f"{machine_arn}#{test_case}", name=test_case,
                              input=json.dumps(event))["executionArn"]
    description = wait_for_execution(sfn, arn)
    return description, history(sfn, arn)


def test_happy_path_runs_every_chunk_then_finalizes(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "HappyPath")
    assert description["status"] == "SUCCEEDED"
    states = entered_states(events)
    assert states[:3] == ["Register File", "Already Loaded?", "Validate File"]
    assert states.count("Transform Chunk") == 3
    assert states[-3:] == ["Aggregate Totals", "Finalize File", "Loaded"]
    output = output_of(description)
    assert [chunk["rows_loaded"] for chunk in output["chunks"]] == [10, 10, 10]
    assert output["result"]["value"]["status"] == "LOADED"


def test_a_chunk_that_fails_once_is_retried_and_the_load_succeeds(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "ChunkFailsThenSucceeds")
    assert description["status"] == "SUCCEEDED"
    failures = [e for e in events if e["type"] == "TaskFailed"]
    assert len(failures) == 3 and all(f["taskFailedEventDetails"]["error"] == "TransientError" for f in failures)
    assert entered_states(events)[-1] == "Loaded"


def test_a_duplicate_delivery_ends_without_loading(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "DuplicateDelivery")
    assert description["status"] == "SUCCEEDED"
    assert entered_states(events) == ["Register File", "Already Loaded?", "Skip Duplicate"]


def test_a_bad_file_goes_to_quarantine_and_the_execution_fails(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "BadFileQuarantined")
    assert description["status"] == "FAILED"
    assert description["error"] == "FileQuarantined"
    states = entered_states(events)
    assert states[-2:] == ["Quarantine File", "File Quarantined"]
    assert "Transform Chunks" not in states
    quarantine_input = next(json.loads(e["stateEnteredEventDetails"]["input"]) for e in events
                            if e.get("stateEnteredEventDetails", {}).get("name") == "Quarantine File")
    assert quarantine_input["error"]["Error"] == "InvalidFile"


def test_an_unexpected_error_is_recorded_and_the_execution_fails(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "UnexpectedErrorRecorded")
    assert description["status"] == "FAILED"
    assert description["error"] == "LoadFailed"
    states = entered_states(events)
    assert states[-2:] == ["Record Failure", "Load Failed"]
    assert "Finalize File" not in states


def test_a_chunk_failing_on_every_attempt_fails_the_load_after_the_retries(sfn: object, machine_arn: str) -> None:
    description, events = _run(sfn, machine_arn, "ChunkFailsEveryAttempt")
    assert description["status"] == "FAILED"
    assert description["error"] == "LoadFailed"
    # the first chunk to use up its 1 try + 3 retries fails the Map, which stops the other chunks
    assert len([e for e in events if e["type"] == "TaskFailed"]) >= 4
    assert any(e["type"] == "MapStateFailed" for e in events)
    assert "Aggregate Totals" not in entered_states(events)
    failure_input = next(json.loads(e["stateEnteredEventDetails"]["input"]) for e in events
                         if e.get("stateEnteredEventDetails", {}).get("name") == "Record Failure")
    assert failure_input["error"]["Error"] == "TransientError"
