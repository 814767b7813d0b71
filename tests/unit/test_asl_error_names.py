"""Every error name in the ASL is one that AWS or gridflow raises: no Retry or Catch waits for an error never sent.

A name in ErrorEquals is one of:
- a `States.*` name AWS defines (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html,
  and Appendix A of https://states-language.net/spec.html);
- `Lambda.<exception>` for an exception of the Lambda Invoke API (botocore's service model lists them), or one
  of the SDK-level names Step Functions reports for Lambda (AWSLambdaException, SdkClientException,
  ClientExecutionTimeoutException, Unknown: https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html);
- `Sandbox.Timedout`, the errorType the Lambda runtime gives a function that ran out of time (older runtimes
  report the same as `Lambda.Unknown`);
- the class name of an error gridflow's handlers raise (tasks/domain/errors.py).
`States.ALL` must be alone in its ErrorEquals and in the last rule of its Retry or Catch (same AWS page); the
Error of a Fail state must not start with `States.` (reserved for AWS).
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tasks.domain import errors as gridflow_errors
from tests.integration.asl_paths import all_states
from tests.integration.sfn_helpers import render_definition, state_machine_paths

STATES_ERRORS = frozenset({
    "States.ALL", "States.BranchFailed", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold",
    "States.HeartbeatTimeout", "States.Http.Socket", "States.IntrinsicFailure", "States.ItemReaderFailed",
    "States.NoChoiceMatched", "States.ParameterPathFailure", "States.Permissions", "States.QueryEvaluationError",
    "States.ResultPathMatchFailure", "States.ResultWriterFailed", "States.Runtime", "States.TaskFailed",
    "States.Timeout",
})
LAMBDA_SDK_ERRORS = frozenset({"AWSLambdaException", "SdkClientException", "ClientExecutionTimeoutException", "Unknown"})
LAMBDA_RUNTIME_ERRORS = frozenset({"Sandbox.Timedout"})
INGEST = json.loads(render_definition())
Mutation = Callable[[dict[str, Any]], None]


def lambda_errors() -> frozenset[str]:
    """`Lambda.<name>` for every exception the Invoke API declares, and the SDK-level ones."""
    invoke = botocore.session.get_session().get_service_model("lambda").operation_model("Invoke")
    return frozenset(f"Lambda.{name}" for name in {shape.name for shape in invoke.error_shapes} | LAMBDA_SDK_ERRORS)


def gridflow_error_names() -> frozenset[str]:
    """The class names of the errors in tasks/domain/errors.py."""
    return frozenset(name for name, member in inspect.getmembers(gridflow_errors, inspect.isclass)
                     if issubclass(member, Exception) and member.__module__ == gridflow_errors.__name__)


def error_name_problems(definition: dict[str, Any]) -> list[str]:
    """Every error name of the definition that nobody raises, and every misplaced States.ALL."""
    known = STATES_ERRORS | lambda_errors() | LAMBDA_RUNTIME_ERRORS | gridflow_error_names()
    problems: list[str] = []
    for name, state in all_states(definition).items():
        for field in ("Retry", "Catch"):
            problems.extend(_rule_problems(f"{name} {field}", state.get(field, []), known))
        if state["Type"] == "Fail" and str(state.get("Error", "")).startswith("States."):
            problems.append(f"{name}: Error {state['Error']!r} uses the reserved States. prefix")
    return problems


def _rule_problems(where: str, rules: list[dict[str, Any]], known: frozenset[str]) -> Iterator[str]:
    for index, rule in enumerate(rules):
        names = rule["ErrorEquals"]
        yield from (f"{where}[{index}]: no one raises {error!r}" for error in names if error not in known)
        if "States.ALL" in names and len(names) > 1:
            yield f"{where}[{index}]: States.ALL must be alone in ErrorEquals"
        if "States.ALL" in names and index != len(rules) - 1:
            yield f"{where}[{index}]: States.ALL must be in the last rule"


@pytest.mark.parametrize("path", state_machine_paths(), ids=lambda path: path.name)
def test_every_error_name_is_raised_by_aws_lambda_or_gridflow(path: Path) -> None:
    assert error_name_problems(json.loads(render_definition(path))) == []


def _retry_errors(definition: dict[str, Any], state: str) -> list[str]:
    return all_states(definition)[state]["Retry"][0]["ErrorEquals"]


def _catchers(definition: dict[str, Any], state: str) -> list[dict[str, Any]]:
    return all_states(definition)[state]["Catch"]


MISTAKES: dict[str, Mutation] = {
    "unknown States error": lambda d: _catchers(d, "Register File")[0].update(ErrorEquals=["States.Everything"]),
    "misspelled States error": lambda d: _retry_errors(d, "Validate File").append("States.Timeouts"),
    "misspelled Lambda error": lambda d: _retry_errors(d, "Transform Chunk").append("Lambda.ServiceExeption"),
    "misspelled gridflow error": lambda d: _catchers(d, "Validate File")[0]["ErrorEquals"].append("InvalidFiles"),
    "States.ALL with other names": lambda d: _catchers(d, "Aggregate Totals")[0]["ErrorEquals"].append(
        "TransientError"),
    "States.ALL before another catcher": lambda d: _catchers(d, "Validate File").reverse(),
    "Fail state with a States. error": lambda d: all_states(d)["Load Failed"].update(Error="States.LoadFailed"),
}


@pytest.mark.parametrize("mutate", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_wrong_error_name_is_rejected(mutate: Mutation) -> None:
    definition = copy.deepcopy(INGEST)
    mutate(definition)
    assert error_name_problems(definition) != []


def test_lambda_errors_come_from_the_invoke_api() -> None:
    assert {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "Lambda.Unknown"} <= lambda_errors()


def test_gridflow_errors_are_the_classes_of_errors_py() -> None:
    assert {"InvalidFile", "UnknownFeed", "TransientError", "GridflowError"} <= gridflow_error_names()
