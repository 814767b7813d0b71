"""Every path of the ingest state machine, with every Lambda mocked through a Step Functions Local MockConfigFile.

The definition is the real statemachines/ingest.asl.json; moto's interpreter runs it on the emulator and
the test case named after `#` in the ARN supplies each Task's responses (see mock_config/). Each test case
has a scenario below: the status it ends in and every state it enters. The coverage test derives the edges
of the ASL (asl_paths.py) and fails when one is taken by no test case, so a new state, transition, Retry or
Catch needs a test case here.

The machine runs with MaxConcurrency 1 so that Map iterations, and so the states entered, come in one order.

A Distributed Map runs its items as child executions whose events are not in the parent's history (on AWS as
on the emulator): the edges inside "Transform Chunks (Distributed)" cannot be read from a history. Its inner
task declares the same Retry as the inline Map's "Transform Chunk" (checked statically below), and the
Distributed* test cases show the retries work there: each succeeds only if the mocked errors were retried, and
a chunk failing every attempt fails the Map Run (States.ExceedToleratedFailureThreshold).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from gridflow.emulator.process import EmulatorProcess
from tasks.steps.failure_cause import failure_cause
from tasks.steps.record_failure import shards_taken_back
from tests.integration.asl_paths import all_states, declared_edges, taken_edges
from tests.integration.sfn_helpers import entered_states, history, output_of, render_definition, wait_for_execution

MOCK_CONFIG = Path(__file__).parent / "mock_config" / "ingest_mock_config.json"
MACHINE = "gridflow-test-ingest"
S3_EVENT = {"detail": {"bucket": {"name": "gridflow-test-data"}, "object": {"key": "inbound/lcl_halfhourly/a.csv"}}}
BUCKET = "gridflow-test-data"
CHUNK_ITEMS_KEY = "work/f0000000000000000000000a/chunk-items.json"  # the ThreeChunksDistributed plan's item list
DISTRIBUTED_MAP = "Transform Chunks (Distributed)"

REGISTERED = ("Register File", "Already Loaded?")
VALIDATED = (*REGISTERED, "Validate File")
PLANNED = (*VALIDATED, "Many Chunks?")
THREE_CHUNKS = (*PLANNED, "Transform Chunks", "Transform Chunk", "Transform Chunk", "Transform Chunk")
CHECKED = ("Check Chunks", "Every Chunk Transformed?")
AGGREGATED = (*THREE_CHUNKS, *CHECKED, "Aggregate Totals")
UNSPLIT = (*AGGREGATED, "Aggregate in Shards?")
LOADED = (*UNSPLIT, "Finalize File", "Loaded")
QUARANTINED = ("Quarantine File", "File Quarantined")
RECORDED = ("Record Failure", "Load Failed")
EVERY_CHUNK_FAILED = (*PLANNED, "Transform Chunks", *("Transform Chunk", "Chunk Failed") * 3, *CHECKED,
                      "First Chunk Error", "Chunk Invalid?")
DISTRIBUTED = (*PLANNED, DISTRIBUTED_MAP)
DISTRIBUTED_LOADED = (*DISTRIBUTED, "Aggregate Totals", "Aggregate in Shards?", "Finalize File", "Loaded")
SHARDS = (*AGGREGATED, "Aggregate in Shards?", "Aggregate Shards")
EVERY_SHARD_FAILED = (*SHARDS, *("Aggregate Shard", "Shard Failed") * 2, "Every Shard Aggregated?", "First Shard Error")
SHARDED = (*SHARDS, "Aggregate Shard", "Aggregate Shard", "Every Shard Aggregated?", "Commit Feed Totals")
SHARDED_LOADED = (*SHARDED, "Finalize File", "Loaded")
TAKEN_BACK = ("Loaded in Shards?", "Take Back Shards", "Take Back Shard", "Take Back Shard")
TAKE_BACK_FAILED = ("Loaded in Shards?", "Take Back Shards", *("Take Back Shard", "Take Back Shard Failed") * 2)


@dataclass(frozen=True)
class Scenario:
    """What one MockConfigFile test case must end in, and the states it must enter in order."""

    test_case: str
    status: str
    states: tuple[str, ...]
    error: str | None = None


SCENARIOS = (
    Scenario("HappyPath", "SUCCEEDED", LOADED),
    Scenario("DuplicateDelivery", "SUCCEEDED", (*REGISTERED, "Skip Duplicate")),
    Scenario("RegisterFailsThenSucceeds", "SUCCEEDED", LOADED),
    Scenario("RegisterFailsEveryAttempt", "FAILED", ("Register File", *RECORDED), "LoadFailed"),
    Scenario("ValidateFailsThenSucceeds", "SUCCEEDED",
             (*PLANNED, "Transform Chunks", "Transform Chunk", *CHECKED, "Aggregate Totals", "Aggregate in Shards?",
              "Finalize File", "Loaded")),
    Scenario("ValidateFailsEveryAttempt", "FAILED", (*VALIDATED, *RECORDED), "LoadFailed"),
    Scenario("BadFileQuarantined", "FAILED", (*VALIDATED, *QUARANTINED), "FileQuarantined"),
    Scenario("UnknownFeedQuarantined", "FAILED", (*VALIDATED, *QUARANTINED), "FileQuarantined"),
    Scenario("ChunkFailsThenSucceeds", "SUCCEEDED", LOADED),
    Scenario("ChunkFailsEveryAttempt", "FAILED", (*EVERY_CHUNK_FAILED, *RECORDED), "LoadFailed"),
    Scenario("ChunkInvalidQuarantined", "FAILED", (*EVERY_CHUNK_FAILED, *QUARANTINED), "FileQuarantined"),
    Scenario("ChunkUnknownFeedQuarantined", "FAILED", (*EVERY_CHUNK_FAILED, *QUARANTINED), "FileQuarantined"),
    Scenario("AggregateFailsThenSucceeds", "SUCCEEDED", LOADED),
    Scenario("AggregateFailsEveryAttempt", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("UnexpectedErrorRecorded", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("FinalizeFailsThenSucceeds", "SUCCEEDED", LOADED),
    Scenario("FinalizeFailsEveryAttempt", "FAILED", (*UNSPLIT, "Finalize File", "Loaded in Shards?", *RECORDED),
             "LoadFailed"),
    Scenario("QuarantineFailsThenSucceeds", "FAILED", (*VALIDATED, *QUARANTINED), "FileQuarantined"),
    Scenario("QuarantineFailsEveryAttempt", "FAILED", (*VALIDATED, "Quarantine File", *RECORDED), "LoadFailed"),
    Scenario("RecordFailureFailsThenSucceeds", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("RecordFailureFailsEveryAttempt", "FAILED", (*AGGREGATED, "Record Failure"),
             "Lambda.TooManyRequestsException"),
    Scenario("AggregateBusyThenSucceeds", "SUCCEEDED", LOADED),
    Scenario("AggregateBusyEveryAttempt", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("QuarantineBusyThenSucceeds", "FAILED", (*VALIDATED, *QUARANTINED), "FileQuarantined"),
    Scenario("QuarantineBusyEveryAttempt", "FAILED", (*VALIDATED, "Quarantine File", *RECORDED), "LoadFailed"),
    Scenario("RecordFailureBusyThenSucceeds", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("RecordFailureBusyEveryAttempt", "FAILED", (*AGGREGATED, "Record Failure"), "NettingBusy"),
    Scenario("TimeoutsThenLoaded", "SUCCEEDED", LOADED),
    Scenario("QuarantineTimesOutThenSucceeds", "FAILED", (*VALIDATED, *QUARANTINED), "FileQuarantined"),
    Scenario("RecordFailureTimesOutThenSucceeds", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("RegisterTimesOutEveryAttempt", "FAILED", ("Register File", "Record Failure"), "Sandbox.Timedout"),
    Scenario("ValidateTimesOutEveryAttempt", "FAILED", (*VALIDATED, *RECORDED), "LoadFailed"),
    Scenario("ChunkTimesOutEveryAttempt", "FAILED", (*EVERY_CHUNK_FAILED, *RECORDED), "LoadFailed"),
    Scenario("AggregateTimesOutEveryAttempt", "FAILED", (*AGGREGATED, *RECORDED), "LoadFailed"),
    Scenario("FinalizeTimesOutEveryAttempt", "FAILED", (*UNSPLIT, "Finalize File", "Loaded in Shards?", *RECORDED),
             "LoadFailed"),
    Scenario("QuarantineTimesOutEveryAttempt", "FAILED", (*VALIDATED, "Quarantine File", *RECORDED), "LoadFailed"),
    Scenario("DistributedHappyPath", "SUCCEEDED", DISTRIBUTED_LOADED),
    Scenario("DistributedChunkFailsThenSucceeds", "SUCCEEDED", DISTRIBUTED_LOADED),
    Scenario("DistributedChunkTimesOutThenSucceeds", "SUCCEEDED", DISTRIBUTED_LOADED),
    Scenario("DistributedChunkFailsEveryAttempt", "FAILED", (*DISTRIBUTED, *RECORDED), "LoadFailed"),
    Scenario("DistributedChunkTimesOutEveryAttempt", "FAILED", (*DISTRIBUTED, *RECORDED), "LoadFailed"),
    Scenario("ShardedHappyPath", "SUCCEEDED", SHARDED_LOADED),
    Scenario("ShardsRetriedThenCommitted", "SUCCEEDED", SHARDED_LOADED),
    Scenario("ShardsBusyThenCommitted", "SUCCEEDED", SHARDED_LOADED),
    Scenario("ShardsTimeOutThenCommitted", "SUCCEEDED", SHARDED_LOADED),
    Scenario("ShardFailsEveryAttempt", "FAILED", (*EVERY_SHARD_FAILED, *TAKEN_BACK, *RECORDED), "LoadFailed"),
    Scenario("ShardBusyEveryAttempt", "FAILED", (*EVERY_SHARD_FAILED, *TAKE_BACK_FAILED, *RECORDED), "LoadFailed"),
    Scenario("ShardTimesOutEveryAttempt", "FAILED", (*EVERY_SHARD_FAILED, *TAKE_BACK_FAILED, *RECORDED),
             "LoadFailed"),
    Scenario("CommitFailsEveryAttempt", "FAILED", (*SHARDED, *TAKEN_BACK, *RECORDED), "LoadFailed"),
    Scenario("CommitBusyEveryAttempt", "FAILED", (*SHARDED, *TAKEN_BACK, *RECORDED), "LoadFailed"),
    Scenario("CommitTimesOutEveryAttempt", "FAILED", (*SHARDED, *TAKEN_BACK, *RECORDED), "LoadFailed"),
    Scenario("ShardedFinalizeFailsEveryAttempt", "FAILED", (*SHARDED, "Finalize File", *TAKEN_BACK, *RECORDED),
             "LoadFailed"),
    Scenario("TakeBackFailsEveryAttempt", "FAILED", (*EVERY_SHARD_FAILED, *TAKE_BACK_FAILED, *RECORDED),
             "LoadFailed"),
)


@dataclass(frozen=True)
class Run:
    """One finished execution: DescribeExecution's answer and the history events."""

    description: dict[str, Any]
    events: list[dict[str, Any]]

    def failures(self) -> list[str]:
        """The error of each TaskFailed event, in order."""
        return [e["taskFailedEventDetails"]["error"] for e in self.events if e["type"] == "TaskFailed"]

    def walked(self) -> list[dict[str, Any]]:
        """The events as the path walker reads them: a failed Map Run (whose child executions' events are not
        in this history) is the failure of its Map state, as a TaskFailed."""
        return [{"type": "TaskFailed", "taskFailedEventDetails": e["mapRunFailedEventDetails"]}
                if e["type"] == "MapRunFailed" else e for e in self.events]

    def input_of(self, state: str) -> dict[str, Any]:
        """The input the state was first entered with."""
        return next(json.loads(e["stateEnteredEventDetails"]["input"]) for e in self.events
                    if e.get("stateEnteredEventDetails", {}).get("name") == state)


@pytest.fixture(scope="module")
def sfn() -> Iterator[Any]:
    """The emulator, with the item list the Distributed Map's ItemReader reads (S3 is not mocked by the
    MockConfigFile: only Task states are)."""
    with EmulatorProcess(extra_env={"SFN_MOCK_CONFIG": str(MOCK_CONFIG)}) as emulator:
        options = {"endpoint_url": emulator.endpoint, "region_name": "eu-west-1", "aws_access_key_id": "testing",
                   "aws_secret_access_key": "testing"}
        s3 = boto3.client("s3", **options)
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        items = [{"index": index, "start": 26 + 30 * index, "end": 56 + 30 * index, "first_line": 2 + 7 * index}
                 for index in range(3)]
        s3.put_object(Bucket=BUCKET, Key=CHUNK_ITEMS_KEY, Body=json.dumps(items).encode())
        yield boto3.client("stepfunctions", **options)


def with_short_waits(definition: str) -> str:
    """The definition with every long retry (more than 3 attempts) waiting 1 s a time: the paths are under test
    here, not the waits, and a NettingBusy retrier would otherwise take five minutes to run out."""
    document = json.loads(definition)

    def shorten(states: dict[str, Any]) -> None:
        for state in states.values():
            for retrier in state.get("Retry", []):
                if retrier.get("MaxAttempts", 3) > 3:
                    retrier.update(IntervalSeconds=1, BackoffRate=1.0)
                    retrier.pop("MaxDelaySeconds", None)
            if "ItemProcessor" in state:
                shorten(state["ItemProcessor"]["States"])

    shorten(document["States"])
    return json.dumps(document)


@pytest.fixture(scope="module")
def definition() -> str:
    return with_short_waits(render_definition(map_concurrency=1))


@pytest.fixture(scope="module")
def runs(sfn: Any, definition: str) -> dict[str, Run]:
    """Every scenario started at once (the retries really wait), then followed to its end."""
    machine_arn = sfn.create_state_machine(name=MACHINE, definition=definition,
                                           roleArn="arn:aws:iam::123456789012:role/test-ingest")["stateMachineArn"]
    started = {scenario.test_case: sfn.start_execution(stateMachineArn=f"{machine_arn}#{scenario.test_case}",
                                                       name=scenario.test_case,
                                                       input=json.dumps(S3_EVENT))["executionArn"]
               for scenario in SCENARIOS}
    return {name: Run(wait_for_execution(sfn, arn), history(sfn, arn)) for name, arn in started.items()}


def test_every_test_case_of_the_mock_config_has_a_scenario() -> None:
    test_cases = json.loads(MOCK_CONFIG.read_text())["StateMachines"][MACHINE]["TestCases"]
    assert sorted(test_cases) == sorted(scenario.test_case for scenario in SCENARIOS)


def test_test_cases_mock_only_task_states(definition: str) -> None:
    tasks = {name for name, state in all_states(json.loads(definition)).items() if state["Type"] == "Task"}
    test_cases = json.loads(MOCK_CONFIG.read_text())["StateMachines"][MACHINE]["TestCases"]
    assert {name: set(states) - tasks for name, states in test_cases.items() if set(states) - tasks} == {}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda scenario: scenario.test_case)
def test_each_test_case_enters_its_states_in_order_and_ends_as_expected(runs: dict[str, Run],
                                                                       scenario: Scenario) -> None:
    run = runs[scenario.test_case]
    assert entered_states(run.events) == list(scenario.states)
    assert run.description["status"] == scenario.status
    assert run.description.get("error") == scenario.error


def test_every_edge_retry_and_catch_of_the_asl_is_taken_by_a_test_case(runs: dict[str, Run],
                                                                       definition: str) -> None:
    asl = json.loads(definition)
    taken = {edge for run in runs.values() for edge in taken_edges(asl, run.walked())}
    child_states = set(asl["States"][DISTRIBUTED_MAP]["ItemProcessor"]["States"])
    declared = {edge for edge in declared_edges(asl) if edge.source not in child_states}
    assert sorted(map(str, declared - taken)) == [], "edges of the ASL that no mock test case takes"
    assert sorted(map(str, taken - declared)) == [], "edges taken that the ASL does not declare"


def test_happy_path_runs_every_chunk_then_finalizes(runs: dict[str, Run]) -> None:
    output = output_of(runs["HappyPath"].description)
    assert [chunk["rows_loaded"] for chunk in output["chunks"]] == [10, 10, 10]
    assert output["result"]["value"]["status"] == "LOADED"


def test_each_chunk_is_retried_on_its_own(runs: dict[str, Run]) -> None:
    assert runs["ChunkFailsThenSucceeds"].failures() == ["TransientError", "Lambda.TooManyRequestsException"] * 3


def test_retries_stop_after_three_and_the_last_error_is_recorded(runs: dict[str, Run]) -> None:
    run = runs["ChunkFailsEveryAttempt"]
    assert run.failures() == ["Lambda.ServiceException", "Lambda.AWSLambdaException",
                              "Lambda.SdkClientException", "Lambda.TooManyRequestsException"] * 3
    assert run.input_of("Record Failure")["error"]["Error"] == "Lambda.TooManyRequestsException"


def test_a_failed_chunk_leaves_the_map_running_until_every_chunk_has_ended(runs: dict[str, Run]) -> None:
    """No Transform Chunk is still writing when the load is taken back: the Map ends after every iteration."""
    for test_case in ("ChunkFailsEveryAttempt", "ChunkInvalidQuarantined"):
        kinds = [event["type"] for event in runs[test_case].events]
        assert kinds.count("MapIterationSucceeded") == 3 and "MapIterationFailed" not in kinds, test_case
        assert kinds.index("MapStateSucceeded") > max(i for i, kind in enumerate(kinds) if kind == "TaskFailed")


def test_a_timed_out_task_is_tried_twice_more_then_caught(runs: dict[str, Run]) -> None:
    assert runs["TimeoutsThenLoaded"].failures() == ["Lambda.ClientExecutionTimeoutException", "Sandbox.Timedout"] * 7
    run = runs["AggregateTimesOutEveryAttempt"]
    assert run.failures() == ["Lambda.Unknown", "Sandbox.Timedout", "Sandbox.Timedout"]
    assert run.input_of("Record Failure")["error"]["Error"] == "Sandbox.Timedout"


def test_an_error_that_is_not_transient_is_not_retried(runs: dict[str, Run]) -> None:
    run = runs["UnexpectedErrorRecorded"]
    assert run.failures() == ["KeyError"]
    assert run.input_of("Record Failure")["error"]["Error"] == "KeyError"


@pytest.mark.parametrize(("test_case", "error"), [("BadFileQuarantined", "InvalidFile"),
                                                  ("UnknownFeedQuarantined", "UnknownFeed"),
                                                  ("ChunkInvalidQuarantined", "InvalidFile")])
def test_quarantine_receives_the_rule_that_failed(runs: dict[str, Run], test_case: str, error: str) -> None:
    caught = runs[test_case].input_of("Quarantine File")["error"]
    assert caught["Error"] == error
    assert failure_cause(caught).error == error


def test_a_failed_chunk_is_named_in_the_cause_the_map_passes_on(runs: dict[str, Run]) -> None:
    """Chunk Failed puts the chunk and its byte range in front of the Lambda's cause (ThreeChunks' first chunk)."""
    caught = runs["ChunkFailsEveryAttempt"].input_of("Record Failure")["error"]
    assert caught["Cause"].startswith("chunk 0 (bytes 26-56): ")
    assert failure_cause(caught).chunk == "chunk 0 (bytes 26-56)"
    assert failure_cause(runs["ChunkInvalidQuarantined"].input_of("Quarantine File")["error"]).rule == "encoding"


def test_the_distributed_map_retries_a_chunk_as_the_inline_map_does(definition: str) -> None:
    states = all_states(json.loads(definition))
    assert states["Transform Chunk (Distributed)"]["Retry"] == states["Transform Chunk"]["Retry"]


def test_a_large_file_runs_its_chunks_in_a_map_run_and_keeps_no_result_per_chunk(sfn: Any,
                                                                                runs: dict[str, Run]) -> None:
    run = runs["DistributedHappyPath"]
    assert [e["type"] for e in run.events if e["type"].startswith("MapRun")] == ["MapRunStarted", "MapRunSucceeded"]
    assert sfn.list_map_runs(executionArn=run.description["executionArn"])["mapRuns"]
    assert output_of(run.description)["chunks"] == {"stored_in": "work"}
    assert run.input_of("Aggregate Totals")["plan"]["value"]["chunk_items_key"] == CHUNK_ITEMS_KEY


def test_a_chunk_failing_every_attempt_fails_the_map_run(runs: dict[str, Run]) -> None:
    run = runs["DistributedChunkFailsEveryAttempt"]
    assert run.input_of("Record Failure")["error"]["Error"] == "States.ExceedToleratedFailureThreshold"


def test_a_file_with_many_meters_aggregates_in_shards_then_commits(runs: dict[str, Run]) -> None:
    run = runs["ShardedHappyPath"]
    assert run.input_of("Commit Feed Totals")["totals"]["value"]["shard_count"] == 2
    shard = run.input_of("Aggregate Shard")
    assert (shard["step"], shard["shards"], shard["chunk_count"]) == ("shard", 2, 1)
    assert output_of(run.description)["totals"]["value"]["sharded"] is True
    assert output_of(run.description)["result"]["value"]["status"] == "LOADED"


@pytest.mark.parametrize("test_case", ["ShardFailsEveryAttempt", "CommitFailsEveryAttempt",
                                       "ShardedFinalizeFailsEveryAttempt"])
def test_a_failed_sharded_load_is_taken_back_shard_by_shard_before_record_failure(runs: dict[str, Run],
                                                                                  test_case: str) -> None:
    run = runs[test_case]
    shard = run.input_of("Take Back Shard")
    assert (shard["step"], shard["shard"], shard["shards"]) == ("take_back_shard", 0, 2)
    state = run.input_of("Record Failure")
    assert [result["items_deleted"] for result in state["taken_back"]] == [1, 1]
    assert "error" in state and "take_back_error" not in state


def test_a_failed_shard_is_named_and_every_shard_ends_before_the_take_back(runs: dict[str, Run]) -> None:
    run = runs["ShardFailsEveryAttempt"]
    caught = run.input_of("Record Failure")["error"]
    assert (caught["Error"], failure_cause(caught).shard) == ("Lambda.TooManyRequestsException", "shard 0 of 2")
    kinds = [event["type"] for event in run.events]
    assert kinds.count("MapIterationSucceeded") >= 2 and "MapIterationFailed" not in kinds
    names = entered_states(run.events)
    assert names.index("Take Back Shards") > max(i for i, name in enumerate(names) if name == "Shard Failed")


def test_a_take_back_that_fails_leaves_everything_to_record_failure(runs: dict[str, Run]) -> None:
    state = runs["TakeBackFailsEveryAttempt"].input_of("Record Failure")
    assert [shard["error"]["Error"] for shard in state["taken_back"]] == ["Lambda.TooManyRequestsException"] * 2
    assert shards_taken_back(state) is None
    assert state["error"]["Error"] == "Lambda.TooManyRequestsException"
