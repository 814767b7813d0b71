"""Every statemachines/*.asl.json is valid Amazon States Language for AWS, checked by cfn-lint's ASL schema.

cfn-lint (AWS's CloudFormation linter) validates the Definition of an AWS::StepFunctions::StateMachine with
its JSON schema of the States Language (rule E3601): the fields each state type allows, their types, Next
or End, and that StartAt names a state. Its schema leaves Retry and Catch entries open, so their fields and
values are checked here against the States Language spec (https://states-language.net/spec.html, "Retrying
after error" and "Fallback states").
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cfnlint.config import ConfigMixIn
from cfnlint.decode.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner import Runner, run_template_by_data

from tests.integration.asl_paths import all_states
from tests.integration.sfn_helpers import render_definition, state_machine_paths

INGEST = json.loads(render_definition())
RETRIER_FIELDS = frozenset({"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds",
                            "JitterStrategy", "Comment"})
CATCHER_FIELDS = frozenset({"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"})
JITTER_STRATEGIES = frozenset({"FULL", "NONE"})
CFN_LINT_CONFIG = ConfigMixIn(regions=["eu-west-1"])
Mutation = Callable[[dict[str, Any]], None]


@cache
def cfn_lint_rules() -> Rules:
    """All of cfn-lint's rules, loaded once (loading takes longer than a run)."""
    return Runner(CFN_LINT_CONFIG).rules


def cfn_lint_findings(definition: dict[str, Any]) -> list[str]:
    """cfn-lint's findings on the definition, as the Definition of a state machine in a minimal template."""
    template, decode_errors = decode_str(json.dumps({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": {"StateMachine": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {
            "RoleArn": "arn:aws:iam::123456789012:role/test-states", "Definition": definition}}},
    }))
    assert template is not None, decode_errors
    matches = run_template_by_data(template, CFN_LINT_CONFIG, cfn_lint_rules())
    return [f"{match.rule.id} {match.message}" for match in matches]


def _is_int(value: object, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


RETRIER_VALUES: dict[str, Callable[[object], bool]] = {
    "IntervalSeconds": lambda value: _is_int(value, 1),
    "MaxAttempts": lambda value: _is_int(value, 0),
    "MaxDelaySeconds": lambda value: _is_int(value, 1),
    "BackoffRate": lambda value: isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 1.0,
    "JitterStrategy": lambda value: value in JITTER_STRATEGIES,
}


def _retrier_problems(where: str, retrier: dict[str, Any]) -> Iterator[str]:
    yield from (f"{where}: unknown field {name!r}" for name in sorted(set(retrier) - RETRIER_FIELDS))
    yield from (f"{where}: {name} {retrier[name]!r} is not allowed" for name, valid in RETRIER_VALUES.items()
                if name in retrier and not valid(retrier[name]))


def retry_and_catch_problems(definition: dict[str, Any]) -> list[str]:
    """Fields of Retry and Catch entries that the States Language does not define, and values out of range."""
    problems: list[str] = []
    for name, state in all_states(definition).items():
        for index, retrier in enumerate(state.get("Retry", [])):
            problems.extend(_retrier_problems(f"{name} Retry[{index}]", retrier))
        for index, catcher in enumerate(state.get("Catch", [])):
            problems.extend(f"{name} Catch[{index}]: unknown field {field!r}"
                            for field in sorted(set(catcher) - CATCHER_FIELDS))
        for field, rules in (("Retry", state.get("Retry", [])), ("Catch", state.get("Catch", []))):
            problems.extend(f"{name} {field}[{index}]: ErrorEquals must be a non-empty list of names"
                            for index, rule in enumerate(rules)
                            if not rule.get("ErrorEquals") or not all(isinstance(e, str) for e in rule["ErrorEquals"]))
    return problems


def broken(mutate: Mutation) -> dict[str, Any]:
    """A copy of the ingest definition with one mistake made by `mutate`."""
    definition = copy.deepcopy(INGEST)
    mutate(definition)
    return definition


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    return all_states(definition)[name]


@pytest.mark.parametrize("path", state_machine_paths(), ids=lambda path: path.name)
def test_cfn_lint_finds_nothing_wrong(path: Path) -> None:
    assert cfn_lint_findings(json.loads(render_definition(path))) == []


@pytest.mark.parametrize("path", state_machine_paths(), ids=lambda path: path.name)
def test_retry_and_catch_entries_use_only_fields_and_values_of_the_spec(path: Path) -> None:
    assert retry_and_catch_problems(json.loads(render_definition(path))) == []


SCHEMA_MISTAKES: dict[str, Mutation] = {
    "misspelled field": lambda d: _state(d, "Register File").update(Resouce=_state(d, "Register File")["Resource"]),
    "misspelled field inside the Map": lambda d: _state(d, "Transform Chunk").update(
        Rety=_state(d, "Transform Chunk").pop("Retry")),
    "unknown state type": lambda d: _state(d, "Loaded").update(Type="Succeeded"),
    "both Next and End": lambda d: _state(d, "Finalize File").update(End=True),
    "StartAt names no state": lambda d: d.update(StartAt="Register"),
    "ResultPath that is not a path": lambda d: _state(d, "Validate File").update(ResultPath="plan"),
}


@pytest.mark.parametrize("mutate", SCHEMA_MISTAKES.values(), ids=SCHEMA_MISTAKES.keys())
def test_cfn_lint_rejects_a_broken_definition(mutate: Mutation) -> None:
    assert any(finding.startswith("E3601") for finding in cfn_lint_findings(broken(mutate)))


RETRY_AND_CATCH_MISTAKES: dict[str, Mutation] = {
    "misspelled MaxAttempts": lambda d: _state(d, "Register File")["Retry"][0].update(
        MaxAttempt=_state(d, "Register File")["Retry"][0].pop("MaxAttempts")),
    "misspelled Next in a Catch": lambda d: _state(d, "Validate File")["Catch"][0].update(
        Nxt=_state(d, "Validate File")["Catch"][0].pop("Next")),
    "interval under a second": lambda d: _state(d, "Aggregate Totals")["Retry"][0].update(IntervalSeconds=0.5),
    "backoff rate under 1": lambda d: _state(d, "Finalize File")["Retry"][0].update(BackoffRate=0.5),
    "unknown jitter strategy": lambda d: _state(d, "Transform Chunk")["Retry"][0].update(JitterStrategy="HALF"),
    "empty ErrorEquals": lambda d: _state(d, "Quarantine File")["Catch"][0].update(ErrorEquals=[]),
}


@pytest.mark.parametrize("mutate", RETRY_AND_CATCH_MISTAKES.values(), ids=RETRY_AND_CATCH_MISTAKES.keys())
def test_a_broken_retry_or_catch_entry_is_rejected(mutate: Mutation) -> None:
    assert retry_and_catch_problems(broken(mutate)) != []
