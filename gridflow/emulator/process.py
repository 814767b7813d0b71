"""Start and stop the emulator as a child process (used by `gridflow up`, the demo and the tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from gridflow.emulator.local_credentials import LOCAL_CREDENTIALS


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop_child(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the child has not gone after 10 s."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class EmulatorProcess:
    """A moto server with gridflow's patches, in a child process, on 127.0.0.1."""

    def __init__(self, port: int | None = None, log_path: Path | None = None,
                 extra_env: dict[str, str] | None = None, startup_seconds: float = 60.0) -> None:
        self.port = port or free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._extra_env = extra_env or {}
        self._startup_seconds = startup_seconds
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> "EmulatorProcess":
        env = {**os.environ, **LOCAL_CREDENTIALS, **self._extra_env}
        env.pop("AWS_ENDPOINT_URL", None)
        log = open(self._log_path, "ab") if self._log_path else subprocess.DEVNULL
        self._process = subprocess.Popen(
            [sys.executable, "-m", "gridflow.emulator", "--port", str(self.port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
            cwd=str(Path(__file__).resolve().parents[2]),
        )
        self._wait_ready()
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self._startup_seconds
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                raise RuntimeError(f"emulator exited with code {self._process.returncode} (log: {self._log_path})")
            try:
                with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"emulator not ready on {self.endpoint} after {self._startup_seconds:.0f}s")

    def stop(self) -> None:
        if self._process is not None:
            stop_child(self._process)
        self._process = None

    @property
    def pid(self) -> int | None:
        """The emulator server's process id while it runs."""
        return self._process.pid if self._process else None

    def client_env(self) -> dict[str, str]:
        """Environment for an AWS client (SDK, CLI, Terraform) that should talk to this emulator."""
        return {**LOCAL_CREDENTIALS, "AWS_ENDPOINT_URL": self.endpoint}

    def __enter__(self) -> "EmulatorProcess":
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
