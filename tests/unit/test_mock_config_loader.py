"""The Step Functions Local MockConfigFile reader of the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridflow.emulator.moto_patches import load_mock_test_case

CONFIG = Path(__file__).resolve().parents[1] / "integration" / "mock_config" / "ingest_mock_config.json"


def test_a_test_case_maps_each_state_to_its_responses_in_retry_order() -> None:
    case = load_mock_test_case(CONFIG, "gridflow-test-ingest", "ChunkFailsThenSucceeds")
    responses = case.state_mocked_responses["Transform Chunk"].mocked_responses
    assert [getattr(response, "error", None) for response in responses] == [
        "TransientError", "Lambda.TooManyRequestsException", None]
    assert type(responses[2]).__name__ == "MockedResponseReturn" and responses[2].payload["Payload"]["index"] == 0


def test_a_range_repeats_the_response(tmp_path: Path) -> None:
    path = tmp_path / "mock.json"
    throttled = {"Throw": {"Error": "Lambda.TooManyRequestsException", "Cause": "Rate Exceeded."}}
    path.write_text(json.dumps({"StateMachines": {"m": {"TestCases": {"Throttled": {"Load": "Throttled"}}}},
                                "MockedResponses": {"Throttled": {"0-2": throttled, "3": {"Return": {"ok": True}}}}}))
    responses = load_mock_test_case(path, "m", "Throttled").state_mocked_responses["Load"].mocked_responses
    assert [type(response).__name__ for response in responses] == ["MockedResponseThrow"] * 3 + ["MockedResponseReturn"]


def test_every_test_case_of_the_ingest_config_loads() -> None:
    test_cases = json.loads(CONFIG.read_text())["StateMachines"]["gridflow-test-ingest"]["TestCases"]
    for name, states in test_cases.items():
        assert set(load_mock_test_case(CONFIG, "gridflow-test-ingest", name).state_mocked_responses) == set(states)


def test_an_unknown_test_case_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "mock.json"
    path.write_text(json.dumps({"StateMachines": {"m": {"TestCases": {}}}, "MockedResponses": {}}))
    with pytest.raises(ValueError, match="no test case 'Nope'"):
        load_mock_test_case(path, "m", "Nope")
