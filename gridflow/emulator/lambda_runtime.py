"""The emulator's Lambda runtime: handlers run in a process of their own, as they do on AWS.

moto's process serves the AWS APIs and runs the Step Functions interpreter. Every Lambda invocation it
makes is POSTed here: this process imports the handler from the function's *deployed zip*, sets the
function's environment, runs it with a context object (and any fault the test plan arms) and answers
with the result or the Lambda error payload. The handlers reach S3 and DynamoDB back in moto's process
through ``AWS_ENDPOINT_URL``, so the two sides use two cores instead of sharing one interpreter lock.

The emulator server starts it with :class:`RuntimeProcess`; it stops when its parent does.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from gridflow.emulator import fault_injection, invocation_metrics
from gridflow.emulator.process import free_port, stop_child

RUNTIME_URL_ENV = "GRIDFLOW_LAMBDA_RUNTIME"
STARTUP_SECONDS = 60.0


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    timeout_seconds: int

    def get_remaining_time_in_millis(self) -> int:
        return self.timeout_seconds * 1000


@dataclass(frozen=True)
class Invocation:
    """One invocation as moto's Lambda backend hands it over: the function's configuration and the event."""

    function_name: str
    function_version: str
    function_arn: str
    memory_mb: int
    timeout_seconds: int
    handler: str
    code_sha: str
    code_zip: str
    environment: dict[str, str]
    event: str

    def context(self) -> LambdaContext:
        return LambdaContext(function_name=self.function_name, function_version=self.function_version,
                             invoked_function_arn=self.function_arn, memory_limit_in_mb=self.memory_mb,
                             aws_request_id=str(uuid.uuid4()), log_group_name=f"/aws/lambda/{self.function_name}",
                             log_stream_name="gridflow-lambda-runtime", timeout_seconds=self.timeout_seconds)


Invoke = Callable[[Invocation], tuple[str, bool]]


class _DeployedCode:
    """Unzips each deployed code bundle once and imports handlers from it."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._root = Path(tempfile.mkdtemp(prefix="gridflow-lambda-code-"))
        self._active_sha: str | None = None

    def handler_for(self, invocation: Invocation) -> Callable[[Any, Any], Any]:
        with self._lock:
            if invocation.code_sha != self._active_sha:
                self._activate(Path(invocation.code_zip), invocation.code_sha)
            module_name, _, function_name = invocation.handler.rpartition(".")
            return getattr(importlib.import_module(module_name), function_name)

    def _activate(self, code_zip: Path, code_sha: str) -> None:
        target = self._root / code_sha
        if not target.exists():
            with zipfile.ZipFile(code_zip) as bundle:
                bundle.extractall(target)
        packages = {p.name for p in target.iterdir() if p.is_dir()}
        for name in list(sys.modules):
            if name.split(".")[0] in packages:
                del sys.modules[name]
        if self._active_sha:
            previous = str(self._root / self._active_sha)
            if previous in sys.path:
                sys.path.remove(previous)
        sys.path.insert(0, str(target))
        importlib.invalidate_caches()
        self._active_sha = code_sha


_deployed_code = _DeployedCode()


def invoke(invocation: Invocation) -> tuple[str, bool]:
    """Run the handler; returns the response payload and whether it is a Lambda error payload."""
    os.environ.update(invocation.environment)
    try:
        payload = json.loads(invocation.event) if invocation.event else {}
        handler = _deployed_code.handler_for(invocation)
        result = fault_injection.call(invocation.function_name, handler, payload, invocation.context())
        return json.dumps(result, default=str), False
    except Exception as error:  # a Lambda turns any exception into an error payload
        body = {
            "errorType": error.error_type if isinstance(error, fault_injection.InjectedLambdaError)
            else type(error).__name__,
            "errorMessage": str(error),
            "stackTrace": traceback.format_exception(error),
        }
        return json.dumps(body), True


# --------------------------------------------------------------------------------------
# moto's side: hand an invocation over
# --------------------------------------------------------------------------------------

class _CodeFiles:
    """Each deployed zip written once to a file the runtime reads (moto holds the bytes in memory)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._root = Path(tempfile.mkdtemp(prefix="gridflow-lambda-zips-"))

    def path_for(self, code_bytes: bytes) -> tuple[str, Path]:
        code_sha = hashlib.sha256(code_bytes).hexdigest()
        path = self._root / f"{code_sha}.zip"
        with self._lock:
            if not path.exists():
                temporary = path.with_suffix(".tmp")
                temporary.write_bytes(code_bytes)
                os.replace(temporary, path)
        return code_sha, path


_code_files = _CodeFiles()


def request_for(function: Any, event: str | bytes | dict[str, Any] | None) -> Invocation:
    """The Invocation of one of moto's LambdaFunction objects with this event (moto passes JSON or a dict)."""
    code_sha, code_zip = _code_files.path_for(function.code_bytes)
    text = event.decode() if isinstance(event, bytes) else event if isinstance(event, str) else json.dumps(event or {})
    return Invocation(function_name=function.function_name, function_version=str(function.version),
                      function_arn=function.function_arn, memory_mb=int(function.memory_size),
                      timeout_seconds=int(function.timeout), handler=function.handler, code_sha=code_sha,
                      code_zip=str(code_zip), environment={k: str(v) for k, v in
                                                           (function.environment_vars or {}).items()},
                      event=text)


def post(invocation: Invocation) -> tuple[str, bool]:
    """Run an invocation in the runtime at $GRIDFLOW_LAMBDA_RUNTIME and wait for its answer."""
    request = urllib.request.Request(f"{os.environ[RUNTIME_URL_ENV]}/invoke", method="POST",
                                     data=json.dumps(asdict(invocation)).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=invocation.timeout_seconds + 60) as response:
        answer = json.loads(response.read())
    return answer["body"], answer["is_error"]


class RuntimeProcess:
    """The runtime as a child process of the emulator server, on a free port of 127.0.0.1.

    It shares the server's stdout and stderr, so the handlers' log lines land in the emulator's log.
    """

    def __init__(self) -> None:
        self._process: subprocess.Popen[bytes] | None = None
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"

    def start(self) -> "RuntimeProcess":
        self._process = subprocess.Popen([sys.executable, "-m", "gridflow.emulator.lambda_runtime",
                                          "--port", str(self.port), "--parent-pid", str(os.getpid())])
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline and self._process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the Lambda runtime did not start (its output is in the emulator log)")

    def stop(self) -> None:
        if self._process is not None:
            stop_child(self._process)
        self._process = None


# --------------------------------------------------------------------------------------
# The runtime's side: an HTTP server, one thread an invocation
# --------------------------------------------------------------------------------------

def _request_handler(run: Invoke) -> type[BaseHTTPRequestHandler]:
    class InvocationHandler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server hook name
            invocation = Invocation(**json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            body, is_error = run(invocation)
            answer = json.dumps({"body": body, "is_error": is_error}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the http.server signature
            """No access log: the handlers' own structured lines are the log."""

    return InvocationHandler


def _exit_with_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(1.0)
    os._exit(0)


class _RuntimeServer(ThreadingHTTPServer):
    """A thread an invocation; a listen backlog for a Map's worth of concurrent invocations."""

    request_queue_size = 256
    daemon_threads = True


def serve(port: int, parent_pid: int) -> None:
    """Serve invocations on 127.0.0.1:port until the parent process is gone."""
    fault_injection.install_lambda_side()
    run = invocation_metrics.install(invoke)  # only with GRIDFLOW_BENCH_METRICS set (make bench)
    server = _RuntimeServer(("127.0.0.1", port), _request_handler(run))
    threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True).start()
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--parent-pid", type=int, required=True)
    args = parser.parse_args()
    serve(args.port, args.parent_pid)


if __name__ == "__main__":
    main()
