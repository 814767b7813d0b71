"""Deploy the stack from infra/ onto a local emulator with `terraform apply`, and keep it running."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from gridflow.emulator.local_credentials import LOCAL_CREDENTIALS
from gridflow.emulator.process import EmulatorProcess
from gridflow.lambda_bundle import build_bundle
from gridflow.terraform_runner import TerraformStack

REPO_ROOT = Path(__file__).resolve().parents[1]
LOCAL_DIR = REPO_ROOT / ".gridflow"
REGION = LOCAL_CREDENTIALS["AWS_DEFAULT_REGION"]


def deploy(endpoint: str, work_dir: Path, environment: str = "dev",
           extra_variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """Build the Lambda bundle and `terraform apply` infra/ against `endpoint`; returns the outputs."""
    work_dir.mkdir(parents=True, exist_ok=True)
    for stale in work_dir.glob("terraform.tfstate*"):
        stale.unlink()  # an emulator starts empty: state from an earlier run would describe nothing real
    bundle = build_bundle(REPO_ROOT, work_dir / "lambda.zip")
    os.environ.update(LOCAL_CREDENTIALS)
    stack = TerraformStack(REPO_ROOT / "infra", work_dir)
    stack.init()
    variables = {"environment": environment, "region": REGION, "endpoint": endpoint,
                 "lambda_zip": str(bundle), **(extra_variables or {})}
    return stack.apply(variables)


def serve(port: int, environment: str = "dev") -> None:
    """`gridflow up`: emulator + deployed stack until Ctrl-C."""
    LOCAL_DIR.mkdir(exist_ok=True)
    work_dir = LOCAL_DIR / f"stack-{port}"
    with EmulatorProcess(port=port, log_path=LOCAL_DIR / f"emulator-{port}.log") as emulator:
        print(f"deploying infra/ with terraform apply to {emulator.endpoint} ...", flush=True)
        outputs = deploy(emulator.endpoint, work_dir, environment)
        print(f"endpoint={emulator.endpoint}")
        print(f"bucket={outputs['data_bucket']}")
        print(f"state_machine={outputs['state_machine_arn']}")
        print(f"drop files with: aws --endpoint-url {emulator.endpoint} s3 cp FILE "
              f"s3://{outputs['data_bucket']}/inbound/<feed>/", flush=True)
        print(f"or: GRIDFLOW_ENDPOINT={emulator.endpoint} gridflow ingest FILE --feed <feed> --wait", flush=True)
        print("Ctrl-C stops the stack.", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print("stopping", flush=True)
