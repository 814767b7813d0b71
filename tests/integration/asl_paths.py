"""The paths through a state machine: the edges its ASL declares, and the edges an execution history took.

An edge is one way out of a state:

- ``Next``, ``Choice`` (one per distinct target of a Choice state's rules and Default), ``End``, ``Succeed``,
  ``Fail``;
- ``Catch[i] <name>`` for each name in the ErrorEquals of the i-th catcher;
- ``Retry[i] <name>`` for each name in the ErrorEquals of the i-th retrier (the state is tried again), and
  ``Retry[i] exhausted`` (that retrier's MaxAttempts are used up and the error goes on to a catcher or out);
- ``uncaught`` for a Task, Map or Parallel without a ``States.ALL`` catcher: the error ends the execution (or
  the Map iteration / Parallel branch), and ``no choice matched`` for a Choice state without Default. A Map
  whose iterations catch every error in their own states cannot fail: it has no ``uncaught`` edge.

The history side reads the events of GetExecutionHistory in order. It needs a history with Map iterations one
after another (``MaxConcurrency: 1``), which is how the mock tests run the machine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

SCOPE_ENDS = "(end)"
FAILS = "(fails)"
DEFAULT_MAX_ATTEMPTS = 3
CAN_FAIL = frozenset({"Task", "Map", "Parallel"})
TERMINAL_VIA = {"Succeed": "Succeed", "Fail": "Fail"}


@dataclass(frozen=True, order=True)
class Edge:
    """One way out of `source`; `target` is a state, SCOPE_ENDS or FAILS."""

    source: str
    via: str
    target: str

    def __str__(self) -> str:
        return f"{self.source} --[{self.via}]--> {self.target}"


def scopes(definition: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The definition and every nested state machine in it (Map ItemProcessor/Iterator, Parallel branches)."""
    yield definition
    for state in definition["States"].values():
        nested = [state[key] for key in ("ItemProcessor", "Iterator") if key in state] + state.get("Branches", [])
        for machine in nested:
            yield from scopes(machine)


def all_states(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every state of every scope by name (AWS requires names unique across the whole machine)."""
    states: dict[str, dict[str, Any]] = {}
    for scope in scopes(definition):
        for name, state in scope["States"].items():
            if name in states:
                raise ValueError(f"state name {name!r} is used twice")
            states[name] = state
    return states


def declared_edges(definition: dict[str, Any]) -> set[Edge]:
    """Every edge the ASL declares."""
    return {edge for name, state in all_states(definition).items() for edge in _edges_of(name, state)}


def _edges_of(name: str, state: dict[str, Any]) -> Iterator[Edge]:
    kind = state["Type"]
    if kind in TERMINAL_VIA:
        yield Edge(name, TERMINAL_VIA[kind], FAILS if kind == "Fail" else SCOPE_ENDS)
    elif kind == "Choice":
        targets = {rule["Next"] for rule in state["Choices"]} | ({state["Default"]} if "Default" in state else set())
        yield from (Edge(name, "Choice", target) for target in targets)
        if "Default" not in state:
            yield Edge(name, "no choice matched", FAILS)
    elif state.get("End"):
        yield Edge(name, "End", SCOPE_ENDS)
    else:
        yield Edge(name, "Next", state["Next"])
    for index, retrier in enumerate(state.get("Retry", [])):
        yield from (Edge(name, f"Retry[{index}] {error}", name) for error in retrier["ErrorEquals"])
        yield Edge(name, f"Retry[{index}] exhausted", name)
    for index, catcher in enumerate(state.get("Catch", [])):
        yield from (Edge(name, f"Catch[{index}] {error}", catcher["Next"]) for error in catcher["ErrorEquals"])
    if state["Type"] in CAN_FAIL and _can_fail(state):
        yield Edge(name, "uncaught", FAILS)


def _can_fail(state: dict[str, Any]) -> bool:
    """Whether an error can end this state and its scope: a Task or Parallel without a States.ALL catcher, a Map
    without one whose iterations can fail (one catching every error in its own states cannot), a Fail state."""
    if state["Type"] == "Fail":
        return True
    catches_all = any("States.ALL" in catcher["ErrorEquals"] for catcher in state.get("Catch", []))
    if state["Type"] not in CAN_FAIL or catches_all:
        return False
    processor = state.get("ItemProcessor") or state.get("Iterator")
    return processor is None or any(_can_fail(inner) or (inner["Type"] == "Choice" and "Default" not in inner)
                                    for inner in processor["States"].values())


def matching_rule(rules: list[dict[str, Any]], error: str) -> tuple[int, str] | None:
    """The first Retry or Catch rule that handles `error` (its index) and the ErrorEquals name that matched."""
    for index, rule in enumerate(rules):
        names = rule["ErrorEquals"]
        if error in names:
            return index, error
        if "States.TaskFailed" in names and error != "States.Timeout":
            return index, "States.TaskFailed"
        if "States.ALL" in names:
            return index, "States.ALL"
    return None


@dataclass
class _Visit:
    """Where one scope (the execution, or one Map iteration) is in the history."""

    state: str | None = None
    error: str | None = None
    retries: Counter[int] = field(default_factory=Counter)
    caught: str | None = None  # the error a Catch led here with (a Fail state's ErrorPath may pass it on)


def taken_edges(definition: dict[str, Any], events: Iterable[dict[str, Any]]) -> set[Edge]:
    """Every edge an execution took, read from its history events."""
    states = all_states(definition)
    edges: set[Edge] = set()
    visits = [_Visit()]
    for event in events:
        kind, visit = event["type"], visits[-1]
        if "stateEnteredEventDetails" in event:
            name = event["stateEnteredEventDetails"]["name"]
            if visit.state is not None:
                edges |= _leaving(states[visit.state], visit, name)
            visits[-1] = _Visit(state=name, caught=visit.error)
        elif kind == "TaskFailed":
            visit.error = event["taskFailedEventDetails"]["error"]
        elif kind == "TaskScheduled" and visit.error is not None:
            edges.add(_retried(states[_current(visit)], visit))
        elif kind == "MapIterationStarted":
            visits.append(_Visit())
        elif kind in ("MapIterationSucceeded", "MapIterationFailed", "MapIterationAborted"):
            iteration = visits.pop()
            if kind == "MapIterationAborted":
                continue
            failed = kind == "MapIterationFailed"
            edges |= _leaving(states[_current(iteration)], iteration, FAILS if failed else SCOPE_ENDS)
            visits[-1].error = iteration.error or (_failed_with(states[_current(iteration)], iteration) if failed
                                                    else None)
        elif kind in ("ExecutionSucceeded", "ExecutionFailed"):
            edges |= _leaving(states[_current(visit)], visit, FAILS if kind == "ExecutionFailed" else SCOPE_ENDS)
    return edges


def _failed_with(state: dict[str, Any], visit: _Visit) -> str | None:
    """The error a Fail state ended its scope with: its Error, or (ErrorPath) the error a Catch led it with."""
    return state.get("Error", visit.caught) if state["Type"] == "Fail" else None


def _current(visit: _Visit) -> str:
    if visit.state is None:
        raise ValueError("history event outside any state")
    return visit.state


def _retried(state: dict[str, Any], visit: _Visit) -> Edge:
    assert visit.error is not None and visit.state is not None
    rule = matching_rule(state.get("Retry", []), visit.error)
    if rule is None:
        raise ValueError(f"{visit.state} was tried again after {visit.error}, which no retrier matches")
    index, name = rule
    visit.retries[index] += 1
    visit.error = None
    return Edge(visit.state, f"Retry[{index}] {name}", visit.state)


def _leaving(state: dict[str, Any], visit: _Visit, target: str) -> set[Edge]:
    """The edges by which the visit's state was left for `target`."""
    source, kind = _current(visit), state["Type"]
    if visit.error is None:
        if kind in TERMINAL_VIA:
            return {Edge(source, TERMINAL_VIA[kind], target)}
        if kind == "Choice":
            return {Edge(source, "Choice" if target != FAILS else "no choice matched", target)}
        return {Edge(source, "End" if target == SCOPE_ENDS else "Next", target)}
    edges: set[Edge] = set()
    retry = matching_rule(state.get("Retry", []), visit.error)
    if retry is not None:
        retrier = state["Retry"][retry[0]]
        if visit.retries[retry[0]] >= retrier.get("MaxAttempts", DEFAULT_MAX_ATTEMPTS):
            edges.add(Edge(source, f"Retry[{retry[0]}] exhausted", source))
    catch = matching_rule(state.get("Catch", []), visit.error)
    edges.add(Edge(source, f"Catch[{catch[0]}] {catch[1]}", target) if catch else Edge(source, "uncaught", target))
    return edges
