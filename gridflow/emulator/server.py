"""Run the patched moto server in this process until interrupted: `python -m gridflow.emulator`."""

from __future__ import annotations

import argparse
import os
import signal
import threading

from gridflow.emulator.local_credentials import LOCAL_CREDENTIALS


def serve(port: int, host: str = "127.0.0.1") -> None:
    """Start moto on host:port with every patch installed, and block until SIGINT/SIGTERM."""
    endpoint = f"http://{host}:{port}"
    os.environ.update(LOCAL_CREDENTIALS)
    # moto's Step Functions interpreter calls Lambda at localhost:$MOTO_PORT, and the handlers,
    # in the Lambda runtime started below, reach S3 and DynamoDB through the standard endpoint setting.
    os.environ["MOTO_PORT"] = str(port)
    os.environ["AWS_ENDPOINT_URL"] = endpoint

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from gridflow.emulator import fault_injection, lambda_runtime, moto_patches

    moto_patches.install()
    fault_injection.install_service_side(port)
    runtime = lambda_runtime.RuntimeProcess().start()
    os.environ[lambda_runtime.RUNTIME_URL_ENV] = runtime.url
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    print(f"emulator ready endpoint={endpoint}", flush=True)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    server.stop()
    runtime.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args()
    serve(args.port, args.host)


if __name__ == "__main__":
    main()
