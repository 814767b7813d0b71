"""Finds a deployed gridflow stack by its naming convention (the names infra/ gives resources)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import boto3

from gridflow.emulator.local_credentials import LOCAL_CREDENTIALS

ENDPOINT_ENV = "GRIDFLOW_ENDPOINT"
ENVIRONMENT_ENV = "GRIDFLOW_ENV"


class StackNotFound(Exception):
    """No gridflow stack answers at the chosen endpoint/account."""


@dataclass(frozen=True)
class Stack:
    environment: str
    region: str
    account: str
    endpoint: str | None
    data_bucket: str
    totals_table: str
    audit_table: str
    state_machine_arn: str
    glue_database: str
    athena_workgroup: str

    def client(self, service: str) -> object:
        return boto3.client(service, region_name=self.region, endpoint_url=self.endpoint)


def use_endpoint(endpoint: str | None) -> str | None:
    """Point this process's AWS clients at `endpoint` (or GRIDFLOW_ENDPOINT); None means real AWS."""
    endpoint = endpoint or os.environ.get(ENDPOINT_ENV) or None
    if endpoint:
        for name, value in LOCAL_CREDENTIALS.items():
            os.environ.setdefault(name, value)
        os.environ["AWS_ENDPOINT_URL"] = endpoint
    return endpoint


def discover(environment: str | None = None, endpoint: str | None = None) -> Stack:
    """The stack `gridflow-<environment>` in the current account and region."""
    environment = environment or os.environ.get(ENVIRONMENT_ENV, "dev")
    endpoint = use_endpoint(endpoint)
    session = boto3.session.Session()
    region = session.region_name or "eu-west-1"
    account = session.client("sts", endpoint_url=endpoint).get_caller_identity()["Account"]
    prefix = f"gridflow-{environment}"
    sfn = session.client("stepfunctions", region_name=region, endpoint_url=endpoint)
    machine = f"{prefix}-ingest"
    arns = [m["stateMachineArn"] for page in sfn.get_paginator("list_state_machines").paginate()
            for m in page["stateMachines"] if m["name"] == machine]
    if not arns:
        where = endpoint or f"AWS account {account} in {region}"
        raise StackNotFound(f"no state machine {machine} at {where}: deploy the stack first "
                            f"(`gridflow up` locally, `terraform apply` in infra/ on AWS)")
    return Stack(environment=environment, region=region, account=account, endpoint=endpoint,
                 data_bucket=f"{prefix}-data-{account}", totals_table=f"{prefix}-daily-totals",
                 audit_table=f"{prefix}-audit", state_machine_arn=arns[0],
                 glue_database=f"gridflow_{environment}", athena_workgroup=prefix)
