"""The stack the end-to-end tests share is the one a user gets from `gridflow up`: a subprocess that deploys
infra/ with terraform apply onto the local emulator, prints its endpoint and bucket, and stops on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridflow.emulator.process import free_port
from gridflow.stack import Stack, discover

READY_TIMEOUT_SECONDS = 420


class UpProcess:
    """`gridflow up --port N` in a child process, with what it printed."""

    def __init__(self) -> None:
        self.port = free_port()
        command = [str(Path(sys.executable).with_name("gridflow")), "up", "--port", str(self.port)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.printed: dict[str, str] = {}
        self.lines: list[str] = []

    def wait_ready(self) -> None:
        """Read its output until it has printed endpoint= and bucket=."""
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        assert self.process.stdout is not None
        while not {"endpoint", "bucket"} <= set(self.printed):
            line = self.process.stdout.readline()
            if not line and self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("gridflow up did not become ready:\n" + "".join(self.lines[-40:]))
            self.lines.append(line)
            name, separator, value = line.strip().partition("=")
            if separator and name in ("endpoint", "bucket", "state_machine"):
                self.printed[name] = value

    def stop(self) -> int:
        """Ctrl-C, as a user would; the exit code."""
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return -1


@pytest.fixture(scope="session")
def gridflow_up() -> Iterator[UpProcess]:
    up = UpProcess()
    up.wait_ready()
    yield up
    assert up.stop() == 0, "gridflow up did not stop cleanly on Ctrl-C:\n" + "".join(up.lines[-20:])


@pytest.fixture(scope="session")
def stack(gridflow_up: UpProcess) -> Stack:
    return discover(environment="dev", endpoint=gridflow_up.printed["endpoint"])
