"""infra/ is formatted, initialises offline through the runner and validates; infra/ stays clean.

Needs the terraform binary: skipped with a message where it is missing, failed under CI=true.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gridflow.terraform_runner import TerraformError, TerraformNotFound, TerraformStack, terraform_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"


@pytest.fixture(scope="module")
def terraform() -> str:
    try:
        return terraform_binary()
    except TerraformNotFound as missing:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must have terraform: {missing}")
        pytest.skip(f"terraform binary not installed ({missing}); install terraform >= 1.6 to run this test")


def _infra_listing() -> set[str]:
    return {str(path.relative_to(INFRA)) for path in INFRA.rglob("*")}


@pytest.fixture(scope="module")
def initialised(terraform: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TerraformStack]:
    before = _infra_listing()
    lock_before = (INFRA / ".terraform.lock.hcl").read_bytes()
    stack = TerraformStack(INFRA, tmp_path_factory.mktemp("terraform"))
    stack.init()
    yield stack
    assert _infra_listing() == before, "terraform wrote into infra/ (state, .terraform, ...)"
    assert (INFRA / ".terraform.lock.hcl").read_bytes() == lock_before, "the committed lock file changed"


def test_infra_is_formatted(terraform: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [terraform, "fmt", "-check", "-recursive", "-diff", "-no-color", str(INFRA)],
        capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
        env={**os.environ, "TF_CLI_CONFIG_FILE": str(tmp_path / "empty.rc"), "CHECKPOINT_DISABLE": "1"},
    )
    assert result.returncode == 0, f"run `terraform fmt -recursive infra`:\n{result.stdout}{result.stderr}"


def test_infra_validates(initialised: TerraformStack) -> None:
    report = initialised.validate()
    assert report["valid"] is True
    assert report["error_count"] == 0


def test_lock_file_pins_the_aws_provider() -> None:
    lock = (INFRA / ".terraform.lock.hcl").read_text(encoding="utf-8")
    assert 'provider "registry.terraform.io/hashicorp/aws"' in lock
    assert 'version     = "5.100.0"' in lock


def test_state_and_provider_install_live_in_the_work_dir(initialised: TerraformStack) -> None:
    assert initialised.data_dir.is_dir()
    assert initialised.cli_config.is_file()
    assert not (INFRA / ".terraform").exists()
    assert not (INFRA / "terraform.tfstate").exists()


def test_a_failing_command_raises_with_terraform_s_message(initialised: TerraformStack) -> None:
    with pytest.raises(TerraformError) as failure:
        initialised.apply({"environment": "qa", "lambda_zip": "/nonexistent.zip",
                           "endpoint": "http://127.0.0.1:9"})
    assert failure.value.returncode != 0
    assert "environment must be one of" in str(failure.value)
    assert not initialised.state_path.exists()
