"""What a moto 5.2.5 server lacks for ``terraform apply`` of ``infra/`` to go through.

Call :func:`install` once, before the server starts. It adds:

* Step Functions ``ValidateStateMachineDefinition``: the AWS provider calls it before
  creating or updating a state machine. Answers OK for any JSON object, FAIL (with a
  diagnostic, as AWS does) for text that is not one.
* Step Functions ``ListStateMachineVersions``: the provider calls it when it reads a
  state machine. Answers the machine's published versions (none unless ``publish``).
* Lambda layers of other accounts: moto only knows layers published to itself and
  rejects ``CreateFunction`` that names the AWS managed layers (AWS SDK for pandas,
  Powertools). Layer ARNs of another account are accepted as they are, like AWS
  accepts public layers; unknown layers of the caller's own account still fail.
  (Nothing of a layer runs on the emulator: handlers run from the deployed zip in the Lambda runtime.)

moto's JSON-protocol services dispatch ``X-Amz-Target: AWSStepFunctions.<Action>``
to the method ``<action in snake_case>`` of the service's response class when the
class has a plain function of that name; the methods below are added that way.

Idempotent. Raises :class:`ShimError` when the moto internals relied on are missing,
so a moto upgrade fails loudly instead of Terraform hanging on a 500.
"""

from __future__ import annotations

import json
import logging
from typing import Any

__all__ = ["ShimError", "install"]

_logger = logging.getLogger(__name__)
_MARKER = "_gridflow_terraform_shims"


class ShimError(RuntimeError):
    """moto does not look the way these shims expect (another moto version?)."""


def _require(owner: Any, name: str) -> Any:
    try:
        return getattr(owner, name)
    except AttributeError as error:
        raise ShimError(f"moto internals changed: {getattr(owner, '__name__', owner)!r} has no {name!r}") from error


# -- Step Functions --------------------------------------------------------------------------

def _validate_state_machine_definition(self: Any) -> Any:
    from moto.core.responses import ActionResult

    definition = self._get_param("definition")
    try:
        parsed = json.loads(definition or "")
    except ValueError as error:
        parsed, problem = None, f"Invalid JSON: {error}"
    else:
        problem = None if isinstance(parsed, dict) else "The definition must be a JSON object"
    if problem is None:
        return ActionResult({"result": "OK", "diagnostics": []})
    return ActionResult({
        "result": "FAIL",
        "diagnostics": [{"severity": "ERROR", "code": "INVALID_JSON_DESCRIPTION", "message": problem}],
    })


def _list_state_machine_versions(self: Any) -> Any:
    from moto.core.responses import ActionResult

    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).items(), reverse=True)
    return ActionResult({
        "stateMachineVersions": [
            {"stateMachineVersionArn": version.arn, "creationDate": version.creation_date}
            for _, version in versions
        ],
    })


_SFN_ACTIONS = {
    "validate_state_machine_definition": _validate_state_machine_definition,
    "list_state_machine_versions": _list_state_machine_versions,
}


def _install_stepfunctions() -> None:
    from moto.core import responses as core_responses
    from moto.core import utils as core_utils
    from moto.stepfunctions import responses as sfn_responses

    _require(core_responses, "ActionResult")
    _require(core_utils, "method_names_from_class")
    response_class = _require(sfn_responses, "StepFunctionResponse")
    _require(response_class, "stepfunction_backend")
    _require(response_class, "_get_param")
    for name, function in _SFN_ACTIONS.items():
        if name in vars(response_class) and not getattr(vars(response_class)[name], _MARKER, False):
            _logger.info("moto implements %s itself; shim not installed", name)
            continue
        setattr(function, _MARKER, True)
        setattr(response_class, name, function)
    dispatched = core_utils.method_names_from_class(response_class)
    missing = [name for name in _SFN_ACTIONS if name not in dispatched]
    if missing:
        raise ShimError(f"moto would not dispatch {missing} to StepFunctionResponse")


# -- Lambda layers ---------------------------------------------------------------------------

def _install_foreign_layers() -> None:
    from moto.awslambda import models as lambda_models

    function_class = _require(lambda_models, "LambdaFunction")
    original = _require(function_class, "_get_layers_data")
    if getattr(original, _MARKER, False):
        return

    def _get_layers_data(self: Any, layers_versions_arns: list[str]) -> list[dict[str, Any]]:
        own = [arn for arn in layers_versions_arns if _arn_account(arn) == self.account_id]
        resolved = iter(original(self, own) if own else [])
        return [next(resolved) if _arn_account(arn) == self.account_id else {"Arn": arn, "CodeSize": 0}
                for arn in layers_versions_arns]

    setattr(_get_layers_data, _MARKER, True)
    function_class._get_layers_data = _get_layers_data


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def install() -> None:
    """Add the missing calls to moto (idempotent; raises ShimError if moto changed)."""
    try:
        import moto  # noqa: F401
    except ImportError as error:
        raise ShimError("moto is not installed") from error
    _install_stepfunctions()
    _install_foreign_layers()
