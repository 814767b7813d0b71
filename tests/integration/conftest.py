"""A stack deployed by `terraform apply` from infra/ onto the local emulator, shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gridflow.emulator.process import EmulatorProcess
from gridflow.local_stack import deploy
from gridflow.stack import Stack, discover


@pytest.fixture(scope="session")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict]]:
    work = tmp_path_factory.mktemp("stack")
    with EmulatorProcess(log_path=work / "emulator.log") as emulator:
        outputs = deploy(emulator.endpoint, work / "terraform", environment="dev")
        yield discover(environment="dev", endpoint=emulator.endpoint), outputs


@pytest.fixture(scope="session")
def stack(deployed: tuple[Stack, dict]) -> Stack:
    return deployed[0]


@pytest.fixture(scope="session")
def emulator_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.getbasetemp()
