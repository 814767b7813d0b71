"""Emulator patch 7 (gridflow/emulator/moto_patches.py): the Step Functions interpreter shares one client a
service instead of making one from boto3's default session in every Map iteration's thread at once, and an
invocation the Lambda runtime cannot answer is the Lambda service's ServiceException, the error name a Retry of
the ASL names, as on AWS."""

from __future__ import annotations

import io
import json
import zipfile
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.awslambda import models as lambda_models
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_lambda import (
    StateTaskServiceLambda)
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client

from gridflow.emulator import lambda_runtime, moto_patches
from gridflow.emulator.process import free_port
from tests.unit.conftest import REGION


def test_map_iterations_share_one_client_a_service_made_once(in_process_aws: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sfn_boto_client, "boto3", moto_patches.InterpreterClients())
    with ThreadPoolExecutor(max_workers=16) as pool:
        lambdas = list(pool.map(lambda _: sfn_boto_client.boto_client_for(REGION, "lambda"), range(64)))
        others = list(pool.map(lambda _: sfn_boto_client.boto_client_for(REGION, "s3"), range(16)))
    assert len({id(client) for client in lambdas}) == 1 and len({id(client) for client in others}) == 1
    assert lambdas[0].meta.service_model.service_name == "lambda"
    assert others[0].meta.service_model.service_name == "s3" and others[0] is not lambdas[0]
    assert lambdas[0].meta.config.retries["total_max_attempts"] == 1, "the interpreter's own settings are kept"


def _function(lambdas: Any) -> str:
    role = boto3.client("iam").create_role(RoleName="runner", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]}))["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as bundle:
        bundle.writestr("handler.py", "def handle(event, context):\n    return event\n")
    lambdas.create_function(FunctionName="gridflow-test-echo", Runtime="python3.11", Role=role,
                            Handler="handler.handle", Code={"ZipFile": code.getvalue()})
    return "gridflow-test-echo"


def test_an_invocation_the_runtime_cannot_answer_is_a_lambda_service_exception(
        in_process_aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lambda_models.LambdaFunction, "_invoke_lambda", moto_patches._invoke_in_runtime)
    monkeypatch.setenv(lambda_runtime.RUNTIME_URL_ENV, f"http://127.0.0.1:{free_port()}")  # nothing listens
    lambdas = boto3.client("lambda", config=Config(retries={"total_max_attempts": 1}))
    with pytest.raises(ClientError) as raised:
        lambdas.invoke(FunctionName=_function(lambdas), Payload=b"{}")
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    assert raised.value.response["Error"]["Code"] == "ServiceException"
    assert "gridflow-test-echo" in raised.value.response["Error"]["Message"]
    error, _ = StateTaskServiceLambda._error_cause_from_client_error(raised.value)
    assert error == "Lambda.ServiceException", "the name the interpreter gives it, which the ASL retries"
