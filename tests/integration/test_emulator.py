"""The emulator's moto patches, each driven through the real APIs (fails loudly on a moto upgrade that breaks one)."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from gridflow.emulator import moto_patches
from gridflow.emulator.process import EmulatorProcess
from tests.integration.sfn_helpers import wait_for_execution

HANDLER_SOURCE = """
import os
import boto3
def handler(event, context):
    boto3.client("s3").list_buckets()          # handlers reach the emulator through AWS_ENDPOINT_URL
    if event.get("fail"):
        raise LookupError("asked to fail")
    return {"function": context.function_name, "pid": os.getpid(), "key": event.get("detail", {}).get("object", {}).get("key")}
"""


@pytest.fixture(scope="module")
def aws() -> Iterator[dict[str, Any]]:
    with EmulatorProcess() as emulator:
        def client(service: str) -> Any:
            return boto3.client(service, endpoint_url=emulator.endpoint, region_name="eu-west-1",
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        yield {"client": client, "emulator_pid": emulator.pid}


@pytest.fixture(scope="module")
def machine(aws: dict[str, Any]) -> str:
    client = aws["client"]
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("probe/__init__.py", "")
        archive.writestr("probe/handler.py", HANDLER_SOURCE)
    role = client("iam").create_role(RoleName="probe", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    function = client("lambda").create_function(
        FunctionName="probe", Runtime="python3.12", Role=role, Handler="probe.handler.handler",
        Code={"ZipFile": bundle.getvalue()})["FunctionArn"]
    definition = {"StartAt": "Call", "States": {"Call": {
        "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function, "Payload.$": "$"}, "OutputPath": "$.Payload", "End": True}}}
    return client("stepfunctions").create_state_machine(
        name="probe", definition=json.dumps(definition), roleArn=role)["stateMachineArn"]


def test_moto_internals_the_patches_need_are_present() -> None:
    moto_patches.check_internals()


def test_lambda_runs_from_the_deployed_zip_in_a_process_apart_from_moto(aws: dict[str, Any], machine: str) -> None:
    sfn = aws["client"]("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, name="direct", input=json.dumps({}))["executionArn"]
    description = wait_for_execution(sfn, arn)
    assert description["status"] == "SUCCEEDED"
    output = json.loads(description["output"])
    assert output["function"] == "probe"
    assert output["pid"] != aws["emulator_pid"]  # the Lambda runtime, not moto's process


def test_handler_exceptions_surface_as_step_functions_errors_named_after_the_class(
        aws: dict[str, Any], machine: str) -> None:
    sfn = aws["client"]("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine, name="fails", input=json.dumps({"fail": True}))["executionArn"]
    description = wait_for_execution(sfn, arn)
    assert description["status"] == "FAILED"
    assert description["error"] == "LookupError"
    assert "asked to fail" in description["cause"]


def test_unnamed_executions_get_unique_names(aws: dict[str, Any], machine: str) -> None:
    sfn = aws["client"]("stepfunctions")
    first = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    second = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
    assert first != second and not first.endswith(":None")


def test_s3_object_created_events_start_the_rule_target_state_machine(aws: dict[str, Any], machine: str) -> None:
    s3, events, sfn = aws["client"]("s3"), aws["client"]("events"), aws["client"]("stepfunctions")
    s3.create_bucket(Bucket="probe-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    s3.put_bucket_notification_configuration(Bucket="probe-bucket",
                                             NotificationConfiguration={"EventBridgeConfiguration": {}})
    pattern = {"source": ["aws.s3"], "detail-type": ["Object Created"],
               "detail": {"bucket": {"name": ["probe-bucket"]}, "object": {"key": [{"prefix": "inbound/"}]}}}
    events.put_rule(Name="probe-inbound", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="probe-inbound", Targets=[{"Id": "sfn", "Arn": machine,
                                                       "RoleArn": "arn:aws:iam::123456789012:role/probe"}])
    before = {e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]}
    s3.put_object(Bucket="probe-bucket", Key="inbound/feed/a.csv", Body=b"x")
    s3.put_object(Bucket="probe-bucket", Key="elsewhere/b.csv", Body=b"x")
    deadline = time.monotonic() + 30
    started: list[str] = []
    while time.monotonic() < deadline and not started:
        started = [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]
                   if e["executionArn"] not in before]
        time.sleep(0.2)
    time.sleep(1)
    started = [e["executionArn"] for e in sfn.list_executions(stateMachineArn=machine)["executions"]
               if e["executionArn"] not in before]
    assert len(started) == 1, "exactly one execution: the key outside inbound/ must start nothing"
    description = wait_for_execution(sfn, started[0])
    assert json.loads(description["output"])["key"] == "inbound/feed/a.csv"
