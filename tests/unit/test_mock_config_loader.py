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
    assert type(responses[0]).__name__ == "MockedResponseThrow" and responses[0].error == "TransientError"
    assert type(responses[1]).__name__ == "MockedResponseReturn" and responses[1].payload["Payload"]["index"] == 0


def test_a_range_repeats_the_response(tmp_path: Path) -> None:
    case = load_mock_test_case(CONFIG, "gridflow-test-ingest", "ChunkFailsEveryAttempt")
    assert len(case.state_mocked_responses["Transform Chunk"].mocked_responses) == 4


def test_an_unknown_test_case_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "mock.json"
    path.write_text(json.dumps({"StateMachines": {"m": {"TestCases": {}}}, "MockedResponses": {}}))
    with pytest.raises(ValueError, match="no test case 'Nope'"):
        load_mock_test_case(path, "m", "Nope")
