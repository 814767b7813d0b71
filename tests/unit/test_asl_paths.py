"""The edges an ASL declares and the edges a history took (the coverage test of the mock test cases rests on them)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from tests.integration.asl_paths import FAILS, SCOPE_ENDS, Edge, declared_edges, matching_rule, taken_edges
from tests.integration.sfn_helpers import render_definition

INGEST = json.loads(render_definition())
TASKS = ("Register File", "Validate File", "Transform Chunk", "Transform Chunk (Distributed)", "Aggregate Totals",
         "Aggregate Shard", "Commit Feed Totals", "Finalize File", "Quarantine File", "Take Back Shard",
         "Record Failure")


def entered(name: str) -> dict[str, Any]:
    return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}}


def failed(error: str) -> dict[str, Any]:
    return {"type": "TaskFailed", "taskFailedEventDetails": {"error": error, "cause": ""}}


SCHEDULED = {"type": "TaskScheduled"}
SUCCEEDED = {"type": "TaskSucceeded"}


def attempts(*errors: str) -> list[dict[str, Any]]:
    """A Task tried once per error given, each attempt failing with it."""
    return [event for error in errors for event in (SCHEDULED, failed(error))]


def test_the_ingest_machine_declares_each_transition_once() -> None:
    edges = declared_edges(INGEST)
    assert Edge("Already Loaded?", "Choice", "Skip Duplicate") in edges
    assert Edge("Already Loaded?", "Choice", "Validate File") in edges
    assert Edge("Validate File", "Catch[0] UnknownFeed", "Quarantine File") in edges
    assert Edge("Transform Chunks", "Next", "Check Chunks") in edges
    assert Edge("Chunk Invalid?", "Choice", "Quarantine File") in edges
    assert Edge("Chunk Invalid?", "Choice", "Record Failure") in edges
    assert Edge("Transform Chunk", "End", SCOPE_ENDS) in edges
    assert Edge("Load Failed", "Fail", FAILS) in edges
    assert Edge("Many Chunks?", "Choice", "Transform Chunks (Distributed)") in edges
    assert Edge("Transform Chunks (Distributed)", "Next", "Aggregate Totals") in edges
    assert Edge("Aggregate in Shards?", "Choice", "Aggregate Shards") in edges
    assert Edge("Aggregate in Shards?", "Choice", "Finalize File") in edges
    assert Edge("Aggregate Shards", "Next", "Every Shard Aggregated?") in edges
    assert Edge("Every Shard Aggregated?", "Choice", "Commit Feed Totals") in edges
    assert Edge("First Shard Error", "Next", "Loaded in Shards?") in edges
    assert Edge("Commit Feed Totals", "Catch[0] States.ALL", "Loaded in Shards?") in edges
    assert Edge("Loaded in Shards?", "Choice", "Take Back Shards") in edges
    assert Edge("Take Back Shards", "Next", "Record Failure") in edges
    assert Edge("Take Back Shard", "Catch[0] States.ALL", "Take Back Shard Failed") in edges


def test_a_map_whose_iterations_catch_every_error_cannot_fail_and_one_that_does_not_can() -> None:
    assert Edge("Aggregate Shards", "uncaught", FAILS) not in declared_edges(INGEST)
    machine = copy.deepcopy(INGEST)
    del machine["States"]["Aggregate Shards"]["ItemProcessor"]["States"]["Aggregate Shard"]["Catch"]
    assert Edge("Aggregate Shards", "uncaught", FAILS) in declared_edges(machine)


NETTING_TASKS = {"Aggregate Totals", "Aggregate Shard", "Commit Feed Totals", "Quarantine File", "Take Back Shard",
                 "Record Failure"}


TIMEOUT_ERRORS = ("Lambda.ClientExecutionTimeoutException", "Sandbox.Timedout", "Lambda.Unknown")


def test_every_task_retries_five_errors_and_timeouts_and_can_run_out_of_retries() -> None:
    """The five transient errors everywhere; NettingBusy (a longer wait) where re-delivery netting runs; a timed
    out or crashed function last, twice more (every task is idempotent, so a retry can only converge)."""
    edges = declared_edges(INGEST)
    for task in TASKS:
        retries = {edge.via for edge in edges if edge.source == task and edge.via.startswith("Retry")}
        netting = {"Retry[1] NettingBusy", "Retry[1] exhausted"} if task in NETTING_TASKS else set()
        last = 2 if netting else 1
        timeouts = {f"Retry[{last}] {name}" for name in TIMEOUT_ERRORS} | {f"Retry[{last}] exhausted"}
        assert len(retries) == 6 + len(netting) + len(timeouts), task
        assert "Retry[0] exhausted" in retries and netting | timeouts <= retries, task


def test_only_states_without_a_catch_all_can_fail_the_execution() -> None:
    uncaught = {edge.source for edge in declared_edges(INGEST) if edge.via == "uncaught"}
    assert uncaught == {"Transform Chunk (Distributed)", "Record Failure"}


def test_a_state_added_without_a_test_case_leaves_its_edges_untaken() -> None:
    grown = copy.deepcopy(INGEST)
    grown["States"]["Finalize File"]["Next"] = "Notify"
    grown["States"]["Notify"] = {"Type": "Pass", "Next": "Loaded"}
    happy_path_tail = [entered("Finalize File"), SCHEDULED, SUCCEEDED, entered("Loaded"),
                       {"type": "ExecutionSucceeded"}]
    taken = taken_edges(INGEST, happy_path_tail)
    assert Edge("Finalize File", "Next", "Loaded") in taken
    assert {Edge("Finalize File", "Next", "Notify"), Edge("Notify", "Next", "Loaded")} <= declared_edges(grown) - taken


def test_a_retried_error_then_success_takes_the_retry_and_the_next_edge() -> None:
    events = [entered("Register File"), *attempts("TransientError"), SCHEDULED, SUCCEEDED, entered("Already Loaded?")]
    assert taken_edges(INGEST, events) == {Edge("Register File", "Retry[0] TransientError", "Register File"),
                                           Edge("Register File", "Next", "Already Loaded?")}


def test_retries_used_up_then_caught_is_the_exhausted_and_the_catch_edge() -> None:
    errors = ("Lambda.ServiceException", "Lambda.AWSLambdaException", "Lambda.SdkClientException", "TransientError")
    events = [entered("Aggregate Totals"), *attempts(*errors), entered("Record Failure")]
    taken = taken_edges(INGEST, events)
    assert Edge("Aggregate Totals", "Retry[0] exhausted", "Aggregate Totals") in taken
    assert Edge("Aggregate Totals", "Catch[0] States.ALL", "Record Failure") in taken
    assert Edge("Aggregate Totals", "Retry[0] TransientError", "Aggregate Totals") not in taken


def test_an_error_no_retrier_matches_goes_straight_to_the_catch() -> None:
    events = [entered("Aggregate Totals"), *attempts("KeyError"), entered("Record Failure")]
    assert taken_edges(INGEST, events) == {Edge("Aggregate Totals", "Catch[0] States.ALL", "Record Failure")}


def test_a_failed_chunk_ends_its_iteration_and_the_map_goes_on_to_check_the_chunks() -> None:
    events = [entered("Transform Chunks"), {"type": "MapIterationStarted"}, entered("Transform Chunk"),
              *attempts("InvalidFile"), entered("Chunk Failed"), {"type": "MapIterationSucceeded"},
              {"type": "MapStateSucceeded"}, entered("Check Chunks"), entered("Every Chunk Transformed?"),
              entered("First Chunk Error"), entered("Chunk Invalid?"), entered("Quarantine File")]
    assert taken_edges(INGEST, events) == {Edge("Transform Chunk", "Catch[0] States.ALL", "Chunk Failed"),
                                           Edge("Chunk Failed", "End", SCOPE_ENDS),
                                           Edge("Transform Chunks", "Next", "Check Chunks"),
                                           Edge("Check Chunks", "Next", "Every Chunk Transformed?"),
                                           Edge("Every Chunk Transformed?", "Choice", "First Chunk Error"),
                                           Edge("First Chunk Error", "Next", "Chunk Invalid?"),
                                           Edge("Chunk Invalid?", "Choice", "Quarantine File")}


def test_an_error_out_of_record_failure_fails_the_execution() -> None:
    events = [entered("Record Failure"), *attempts("KeyError"), {"type": "ExecutionFailed"}]
    assert taken_edges(INGEST, events) == {Edge("Record Failure", "uncaught", FAILS)}


def test_a_retry_no_retrier_allows_is_an_error() -> None:
    events = [entered("Register File"), *attempts("KeyError"), SCHEDULED]
    with pytest.raises(ValueError, match="no retrier matches"):
        taken_edges(INGEST, events)


@pytest.mark.parametrize(("error", "expected"), [("InvalidFile", (0, "InvalidFile")),
                                                 ("UnknownFeed", (0, "UnknownFeed")),
                                                 ("KeyError", (1, "States.ALL"))])
def test_the_first_matching_catcher_handles_an_error(error: str, expected: tuple[int, str]) -> None:
    assert matching_rule(INGEST["States"]["Validate File"]["Catch"], error) == expected


def test_states_task_failed_matches_everything_but_a_timeout() -> None:
    rules = [{"ErrorEquals": ["States.TaskFailed"]}]
    assert matching_rule(rules, "KeyError") == (0, "States.TaskFailed")
    assert matching_rule(rules, "States.Timeout") is None
