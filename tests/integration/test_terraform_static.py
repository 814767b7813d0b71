"""infra/ is formatted, initialises offline through the runner and validates; infra/ stays clean; every
checkov skip says why; and the stack `terraform apply` makes has the security posture docs/security.md
describes (those tests are e2e: they read the deployed resources back from the emulator).

Needs the terraform binary: skipped with a message where it is missing, failed under CI=true.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gridflow.stack import Stack
from gridflow.terraform_runner import TerraformError, TerraformNotFound, TerraformStack, terraform_binary

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
SECURITY_DOC = REPO_ROOT / "docs" / "security.md"
CHECKOV_SKIP = re.compile(r"#\s*checkov:skip=(?P<check>CKV2?_[A-Z]+_\d+)(?::(?P<reason>.*))?")
MIN_REASON_CHARS = 40

# The only actions a role may grant on the resource "*": AWS has no resource-level permissions for them.
STAR_RESOURCE_ACTIONS = {
    "cloudwatch:PutMetricData",  # task functions, conditioned on the gridflow namespace
    # the state machine's vended log delivery
    "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups", "logs:DescribeResourcePolicies",
    "logs:GetLogDelivery", "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
}


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


# -- checkov: skips are inline, justified and documented ------------------------------------------

def _checkov_skips() -> list[tuple[str, str, str]]:
    """(file, check id, reason) of every inline skip in infra/."""
    return [(path.name, found["check"], (found["reason"] or "").strip())
            for path in sorted(INFRA.glob("*.tf"))
            for found in CHECKOV_SKIP.finditer(path.read_text(encoding="utf-8"))]


def test_every_checkov_skip_says_why_and_is_in_the_security_doc() -> None:
    documented = SECURITY_DOC.read_text(encoding="utf-8")
    for file, check, reason in _checkov_skips():
        assert len(reason) >= MIN_REASON_CHARS, f"{file}: checkov:skip={check} needs its reason after a colon"
        assert check in documented, f"{file}: checkov:skip={check} is not explained in docs/security.md"


def test_checkov_config_skips_nothing_globally() -> None:
    config = (REPO_ROOT / ".checkov.yaml").read_text(encoding="utf-8")
    assert "skip-check" not in config, "skip checks inline, on the resource, with the reason"
    assert re.search(r"^directory:\s*\n\s*-\s*infra\s*$", config, re.MULTILINE)


# -- the deployed stack (terraform apply on the emulator) -----------------------------------------

def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(iam: Any, role_name: str) -> list[dict[str, Any]]:
    """Every statement of the role's inline policies; a role with managed policies attached fails."""
    assert iam.list_attached_role_policies(RoleName=role_name)["AttachedPolicies"] == [], role_name
    names = iam.list_role_policies(RoleName=role_name)["PolicyNames"]
    return [statement for name in names
            for statement in _as_list(iam.get_role_policy(RoleName=role_name, PolicyName=name)
                                      ["PolicyDocument"]["Statement"])]


def _wildcard_grants(statement: dict[str, Any]) -> list[str]:
    """What is wrong with one Allow statement: wildcard actions, Not* elements, "*" resources AWS doesn't need."""
    if statement["Effect"] != "Allow":
        return []
    problems = [f"{element} in an Allow" for element in ("NotAction", "NotResource") if element in statement]
    actions = _as_list(statement.get("Action", []))
    problems += [f"wildcard action {action}" for action in actions if action == "*" or action.endswith(":*")]
    if "*" in _as_list(statement.get("Resource", [])):
        problems += [f"{action} on resource *" for action in actions if action not in STAR_RESOURCE_ACTIONS]
    return problems


@pytest.fixture(scope="module")
def function_roles(stack: Stack) -> dict[str, str]:
    """Function name -> role name, for every function of the stack."""
    functions = [function for page in stack.client("lambda").get_paginator("list_functions").paginate()
                 for function in page["Functions"]
                 if function["FunctionName"].startswith(f"gridflow-{stack.environment}-")]
    return {function["FunctionName"]: function["Role"].rsplit("/", 1)[-1] for function in functions}


@pytest.mark.e2e
def test_each_function_has_a_role_of_its_own(function_roles: dict[str, str]) -> None:
    assert len(function_roles) >= 7
    assert len(set(function_roles.values())) == len(function_roles), function_roles


@pytest.mark.e2e
def test_no_role_grants_wildcard_actions_or_needless_star_resources(stack: Stack,
                                                                    function_roles: dict[str, str]) -> None:
    iam = stack.client("iam")
    sfn = stack.client("stepfunctions")
    machine_roles = [sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["roleArn"]
                     .rsplit("/", 1)[-1]
                     for page in sfn.get_paginator("list_state_machines").paginate()
                     for machine in page["stateMachines"]
                     if machine["name"].startswith(f"gridflow-{stack.environment}-")]
    assert machine_roles
    for role in [*function_roles.values(), *machine_roles]:
        statements = _role_statements(iam, role)
        assert statements, f"{role} has no policy"
        problems = [problem for statement in statements for problem in _wildcard_grants(statement)]
        assert problems == [], f"{role}: {problems}"


@pytest.mark.e2e
def test_each_state_machine_invokes_only_its_own_functions(stack: Stack) -> None:
    """The ingest machine cannot run a retraction, nor the retract machine a load."""
    sfn, iam = stack.client("stepfunctions"), stack.client("iam")
    prefix = f"gridflow-{stack.environment}-"
    invocable = {}
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"].startswith(prefix):
                role = sfn.describe_state_machine(stateMachineArn=machine["stateMachineArn"])["roleArn"]
                invocable[machine["name"].removeprefix(prefix)] = {
                    resource.rsplit(":function:", 1)[-1].split(":")[0].removeprefix(prefix)
                    for statement in _role_statements(iam, role.rsplit("/", 1)[-1])
                    if "lambda:InvokeFunction" in _as_list(statement["Action"])
                    for resource in _as_list(statement["Resource"])}
    assert invocable["ingest"] == {"register", "validate", "transform-chunk", "aggregate", "finalize", "quarantine",
                                   "record-failure"}
    assert invocable["retract"] == {"retract"}


@pytest.mark.e2e
def test_the_data_key_is_used_only_through_s3_and_dynamodb(stack: Stack, function_roles: dict[str, str]) -> None:
    iam = stack.client("iam")
    for role in function_roles.values():
        for statement in _role_statements(iam, role):
            if any(action.startswith("kms:") for action in _as_list(statement["Action"])):
                via = statement.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService")
                assert via and all(service.split(".")[0] in ("s3", "dynamodb") for service in _as_list(via)), \
                    f"{role}: {statement}"


@pytest.fixture(scope="module")
def data_key_arn(stack: Stack) -> str:
    """The KMS key the data bucket encrypts with by default."""
    rules = stack.client("s3").get_bucket_encryption(Bucket=stack.data_bucket)[
        "ServerSideEncryptionConfiguration"]["Rules"]
    default = rules[0]["ApplyServerSideEncryptionByDefault"]
    assert default["SSEAlgorithm"] == "aws:kms" and rules[0]["BucketKeyEnabled"] is True
    return stack.client("kms").describe_key(KeyId=default["KMSMasterKeyID"])["KeyMetadata"]["Arn"]


@pytest.mark.e2e
def test_the_data_key_rotates(stack: Stack, data_key_arn: str) -> None:
    assert stack.client("kms").get_key_rotation_status(KeyId=data_key_arn)["KeyRotationEnabled"] is True


@pytest.mark.e2e
def test_the_bucket_is_private_and_versioned(stack: Stack) -> None:
    s3 = stack.client("s3")
    block = s3.get_public_access_block(Bucket=stack.data_bucket)["PublicAccessBlockConfiguration"]
    assert block == {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                     "RestrictPublicBuckets": True}
    assert s3.get_bucket_versioning(Bucket=stack.data_bucket)["Status"] == "Enabled"
    ownership = s3.get_bucket_ownership_controls(Bucket=stack.data_bucket)["OwnershipControls"]["Rules"]
    assert ownership == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.e2e
def test_the_tables_are_encrypted_with_the_data_key_and_recoverable(stack: Stack, data_key_arn: str) -> None:
    dynamodb = stack.client("dynamodb")
    for table in (stack.totals_table, stack.audit_table):
        sse = dynamodb.describe_table(TableName=table)["Table"]["SSEDescription"]
        assert (sse["Status"], sse["SSEType"], sse["KMSMasterKeyArn"]) == ("ENABLED", "KMS", data_key_arn)
        backups = dynamodb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"]
        assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"


@pytest.mark.e2e
def test_the_log_groups_are_encrypted_with_the_data_key(stack: Stack, data_key_arn: str) -> None:
    logs = stack.client("logs")
    prefixes = (f"/aws/lambda/gridflow-{stack.environment}-", f"/aws/vendedlogs/states/gridflow-{stack.environment}-")
    groups = [group for prefix in prefixes
              for group in logs.describe_log_groups(logGroupNamePrefix=prefix)["logGroups"]]
    assert len(groups) >= 8
    assert {group["logGroupName"]: group.get("kmsKeyId") for group in groups} == \
        {group["logGroupName"]: data_key_arn for group in groups}
