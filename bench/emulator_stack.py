"""A fresh gridflow stack for one bench size: the emulator (recording task metrics) plus `terraform apply` of infra/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gridflow.emulator.invocation_metrics import METRICS_ENV
from gridflow.emulator.process import EmulatorProcess
from gridflow.local_stack import deploy
from gridflow.stack import Stack, discover


@contextmanager
def bench_stack(work_dir: Path, metrics_path: Path) -> Iterator[Stack]:
    """Start the emulator on a free port with GRIDFLOW_BENCH_METRICS=metrics_path, deploy, yield the stack."""
    work_dir.mkdir(parents=True, exist_ok=True)
    metrics_path.unlink(missing_ok=True)
    emulator = EmulatorProcess(log_path=work_dir / "emulator.log", extra_env={METRICS_ENV: str(metrics_path)})
    with emulator:
        deploy(emulator.endpoint, work_dir / "stack")
        yield discover(environment="dev", endpoint=emulator.endpoint)
