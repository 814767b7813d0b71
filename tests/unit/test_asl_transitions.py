"""Every transition of every statemachines/*.asl.json lands on a state of its own scope, and every state is reachable.

AWS rejects a definition whose Next, Default, Choice rule or Catch names a state that is not in the same
States object (MISSING_TRANSITION_TARGET), one with a state no path reaches (UNREACHABLE_STATE), and one
with a state name used twice anywhere in the machine. cfn-lint's schema checks none of these.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.asl_paths import all_states, scopes
from tests.integration.sfn_helpers import render_definition, state_machine_paths

Mutation = Callable[[dict[str, Any]], None]


def targets(state: dict[str, Any]) -> Iterator[str]:
    """The states this state can go to."""
    if "Next" in state:
        yield state["Next"]
    if "Default" in state:
        yield state["Default"]
    yield from (rule["Next"] for rule in state.get("Choices", []))
    yield from (catcher["Next"] for catcher in state.get("Catch", []))


def reachable(scope: dict[str, Any]) -> set[str]:
    """The states of one scope that a path from its StartAt reaches."""
    seen: set[str] = set()
    pending = [scope["StartAt"]]
    while pending:
        name = pending.pop()
        if name in seen or name not in scope["States"]:
            continue
        seen.add(name)
        pending.extend(targets(scope["States"][name]))
    return seen


def transition_problems(definition: dict[str, Any]) -> list[str]:
    """Transitions to states outside their scope, unreachable states and state names used twice."""
    try:
        all_states(definition)
    except ValueError as duplicate:
        return [str(duplicate)]
    problems: list[str] = []
    for scope in scopes(definition):
        names = set(scope["States"])
        problems.extend(f"{name} goes to {target!r}, which is not a state of its scope"
                        for name, state in scope["States"].items() for target in targets(state)
                        if target not in names)
        problems.extend(f"{name} is not reachable from {scope['StartAt']!r}"
                        for name in sorted(names - reachable(scope)))
    return problems


@pytest.mark.parametrize("path", state_machine_paths(), ids=lambda path: path.name)
def test_every_transition_lands_on_a_state_and_every_state_is_reachable(path: Path) -> None:
    assert transition_problems(json.loads(render_definition(path))) == []


def _ingest_states(definition: dict[str, Any]) -> dict[str, Any]:
    return definition["States"]


def _chunk_states(definition: dict[str, Any]) -> dict[str, Any]:
    return definition["States"]["Transform Chunks"]["ItemProcessor"]["States"]


def _leave_the_map(item_state: dict[str, Any]) -> None:
    del item_state["End"]
    item_state["Next"] = "Aggregate Totals"


MISTAKES: dict[str, Mutation] = {
    "Next to a missing state": lambda d: _ingest_states(d)["Register File"].update(Next="Already Loaded"),
    "Choice rule to a missing state": lambda d: _ingest_states(d)["Already Loaded?"]["Choices"][0].update(
        Next="Skip"),
    "Default to a missing state": lambda d: _ingest_states(d)["Already Loaded?"].update(Default="Validate"),
    "Catch to a missing state": lambda d: _ingest_states(d)["Validate File"]["Catch"][0].update(Next="Quarantine"),
    "Map item state leaving its Map": lambda d: _leave_the_map(_chunk_states(d)["Transform Chunk"]),
    "unreachable state": lambda d: _ingest_states(d).update({"Orphan": {"Type": "Succeed"}}),
    "state name used twice": lambda d: _chunk_states(d).update({"Loaded": {"Type": "Succeed"}}),
}


@pytest.mark.parametrize("mutate", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_broken_transition_is_rejected(mutate: Mutation) -> None:
    definition = json.loads(render_definition())
    mutate(definition)
    assert transition_problems(definition) != []
