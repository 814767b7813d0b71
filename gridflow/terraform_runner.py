"""Run Terraform on a stack without touching the user's own Terraform setup.

Everything Terraform writes goes to a work directory of the caller's choice: the CLI
config, the provider install (``TF_DATA_DIR``), the state (``-state=``) and the
variables file. The stack's folder (``infra/``) is only read; its committed
``.terraform.lock.hcl`` is used read-only.

Offline machines get the provider from a local filesystem mirror (the folder that
holds ``registry.terraform.io/hashicorp/aws``); without one, ``init`` downloads it
from the registry as usual.

Example
-------
>>> stack = TerraformStack(Path("infra"), Path("/tmp/gridflow-tf"))  # doctest: +SKIP
>>> stack.init()                                                      # doctest: +SKIP
>>> outputs = stack.apply({"environment": "dev", "lambda_zip": "/tmp/bundle.zip",
...                        "endpoint": "http://127.0.0.1:5000"})      # doctest: +SKIP
>>> outputs["data_bucket"]                                            # doctest: +SKIP
'gridflow-dev-data-123456789012'
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "TerraformError",
    "TerraformNotFound",
    "TerraformStack",
    "provider_mirror",
    "terraform_binary",
]

_logger = logging.getLogger(__name__)

PROVIDER = "registry.terraform.io/hashicorp/aws"
MIRROR_CANDIDATES: tuple[Path, ...] = (
    Path("/opt/tf-plugins"),
    Path.home() / ".terraform.d" / "plugins",
    Path("/usr/share/terraform/plugins"),
)
STDERR_TAIL_CHARS = 4000


class TerraformNotFound(RuntimeError):
    """No terraform binary on the PATH (or in $TERRAFORM_BIN)."""


class TerraformError(RuntimeError):
    """A terraform command failed; carries the command and the tail of its output."""

    def __init__(self, command: Sequence[str], returncode: int, stderr: str, stdout: str = "") -> None:
        self.command = list(command)
        self.returncode = returncode
        self.stderr_tail = stderr[-STDERR_TAIL_CHARS:]
        self.stdout_tail = stdout[-STDERR_TAIL_CHARS:]
        detail = self.stderr_tail.strip() or self.stdout_tail.strip()
        subcommand = next((part for part in self.command[1:] if not part.startswith("-")), "")
        super().__init__(f"terraform {subcommand} exited with {returncode}:\n{detail}")


def terraform_binary() -> str:
    """Path of the terraform executable: $TERRAFORM_BIN, else the one on the PATH."""
    explicit = os.environ.get("TERRAFORM_BIN")
    found = explicit if explicit and Path(explicit).is_file() else shutil.which("terraform")
    if not found:
        raise TerraformNotFound("terraform is not installed (not on PATH, TERRAFORM_BIN unset)")
    return found


def provider_mirror(candidates: Sequence[Path] = MIRROR_CANDIDATES) -> Path | None:
    """The filesystem mirror root holding hashicorp/aws, or None (then init downloads it).

    The root is the folder that contains ``registry.terraform.io``; both the unpacked
    layout (``<version>/<os_arch>/``) and the packed one (zip files) qualify.
    """
    for root in candidates:
        provider_dir = root / PROVIDER
        if provider_dir.is_dir() and any(provider_dir.iterdir()):
            return root
    return None


def _cli_config(mirror: Path | None) -> str:
    if mirror is None:
        return "# gridflow: no local provider mirror, providers come from the registry\n"
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        f"    include = [{json.dumps(PROVIDER)}]\n"
        "  }\n"
        "  direct {\n"
        f"    exclude = [{json.dumps(PROVIDER)}]\n"
        "  }\n"
        "}\n"
    )


class TerraformStack:
    """One Terraform root module (``infra_dir``) with all its local files in ``work_dir``.

    Parameters
    ----------
    infra_dir
        The Terraform configuration. Never written to.
    work_dir
        Where the CLI config, provider install, state and variables go. Use one work
        directory per deployed stack; reusing it reuses the state.
    mirror
        Provider mirror root; by default :func:`provider_mirror` finds it.
    timeout
        Seconds one terraform command may run (None: no limit).
    """

    def __init__(self, infra_dir: Path, work_dir: Path, *, mirror: Path | None | str = "auto",
                 timeout: float | None = 1800.0) -> None:
        self.infra_dir = Path(infra_dir).resolve()
        self.work_dir = Path(work_dir).resolve()
        self.mirror = provider_mirror() if mirror == "auto" else (Path(mirror) if mirror else None)
        self.timeout = timeout
        self.state_path = self.work_dir / "terraform.tfstate"
        self.var_file = self.work_dir / "gridflow.tfvars.json"
        self.cli_config = self.work_dir / "terraform.rc"
        self.data_dir = self.work_dir / "tf-data"
        self.lock_file = self.infra_dir / ".terraform.lock.hcl"

    # -- commands ---------------------------------------------------------------------------

    def init(self) -> None:
        """Install the provider into the work dir (offline from the mirror when there is one)."""
        args = ["init", "-input=false", "-no-color", "-backend=true"]
        if self.lock_file.is_file():
            # The committed lock file is the source of truth: never rewrite it.
            args.append("-lockfile=readonly")
        self._run(args)

    def validate(self) -> dict[str, Any]:
        """``terraform validate -json``; raises TerraformError when the configuration is invalid."""
        result = self._run(["validate", "-json", "-no-color"], check=False)
        report: dict[str, Any] = json.loads(result.stdout or "{}")
        if result.returncode != 0 or not report.get("valid", False):
            messages = [f"{d.get('severity')}: {d.get('summary')} {d.get('detail', '')}".strip()
                        for d in report.get("diagnostics", [])]
            raise TerraformError(result.args, result.returncode, "\n".join(messages) or result.stderr)
        return report

    def apply(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """Create or update the stack with these variables; returns its outputs as plain values."""
        self._write_variables(variables)
        self._run(["apply", "-input=false", "-auto-approve", "-no-color",
                   f"-state={self.state_path}", f"-var-file={self.var_file}"])
        return self.outputs()

    def destroy(self, variables: Mapping[str, Any]) -> None:
        """Delete everything the stack created (the state in work_dir says what)."""
        self._write_variables(variables)
        self._run(["destroy", "-input=false", "-auto-approve", "-no-color",
                   f"-state={self.state_path}", f"-var-file={self.var_file}"])

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs as plain values ({} before the first apply)."""
        if not self.state_path.is_file():
            return {}
        result = self._run(["output", "-json", "-no-color", f"-state={self.state_path}"])
        raw: dict[str, dict[str, Any]] = json.loads(result.stdout or "{}")
        return {name: entry.get("value") for name, entry in raw.items()}

    # -- plumbing ---------------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The environment every terraform command runs with."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.cli_config.write_text(_cli_config(self.mirror), encoding="utf-8")
        env = dict(os.environ)
        env.update({
            "TF_CLI_CONFIG_FILE": str(self.cli_config),
            "TF_DATA_DIR": str(self.data_dir),
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "CHECKPOINT_DISABLE": "1",
        })
        # Variables and state come only from this runner, never from the caller's shell.
        for name in [k for k in env if k.startswith("TF_VAR_") or k in ("TF_WORKSPACE", "TF_CLI_ARGS")
                     or k.startswith("TF_CLI_ARGS_")]:
            env.pop(name)
        return env

    def _write_variables(self, variables: Mapping[str, Any]) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.var_file.write_text(json.dumps(dict(variables), indent=2, sort_keys=True), encoding="utf-8")

    def _run(self, args: list[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [terraform_binary(), f"-chdir={self.infra_dir}", *args]
        _logger.info("terraform %s (work dir %s)", args[0], self.work_dir)
        result = subprocess.run(command, env=self.environment(), capture_output=True, text=True,
                                timeout=self.timeout, check=False, stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise TerraformError(command, result.returncode, result.stderr, result.stdout)
        return result
