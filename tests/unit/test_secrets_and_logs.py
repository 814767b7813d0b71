"""No credentials in the repository or in the logs, and no row of customer data in an INFO log line.

The repository scan reads every file git tracks (and the untracked files it does not ignore) for AWS access
keys, AWS secret keys, private keys, tokens and credentials assigned in code. The one credential allowed is
the local emulator's fixed dummy (gridflow/emulator/local_credentials.py): moto accepts any credentials, the
value is public and grants nothing anywhere.

The log check runs the real handlers in the order the state machine calls them, on moto in this process,
with the sample files: two that load, one with rejected rows, one without its header (quarantined, and its
"header" is a data row) and one with a merge-conflict marker; plus Record Failure on a parser error that
quotes a row. Every log record the handlers emit is formatted by Powertools as on AWS; no INFO or WARNING
line may hold a data row of the input, nor the credentials the handlers ran with.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import string
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from gridflow.emulator.local_credentials import LOCAL_CREDENTIALS
from gridflow.emulator.lambda_runtime import LambdaContext
from tasks.handlers import aggregate, finalize, observability, quarantine, record_failure, register, \
    transform_chunk, validate

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLES = REPO_ROOT / "samples"
REGION = "eu-west-1"
BUCKET = "gridflow-test-data"
TOTALS_TABLE = "gridflow-test-daily-totals"
AUDIT_TABLE = "gridflow-test-audit"

# -- credentials in the repository ----------------------------------------------------------------

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws.{0,20}secret.{0,20}?[\"'\s:=]+(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])"),
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "credential in code": re.compile(
        r"(?i)\b[\w-]*(?:password|passwd|secret|token|api_?key|access_?key)[\w-]*[\"']?\s*[:=]\s*"
        r"[\"'](?P<value>[^\"'\s]{6,})[\"']"),
}
# The emulator's dummy credentials: the only value allowed where a credential is assigned.
CREDENTIAL_NAMES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
EMULATOR_DUMMY_VALUES = frozenset(LOCAL_CREDENTIALS[name] for name in CREDENTIAL_NAMES)


def credential_findings(text: str) -> list[str]:
    """What in `text` looks like a credential, except the emulator's dummy value."""
    return [f"{kind}: {found.group(0)[:60]}"
            for kind, pattern in SECRET_PATTERNS.items()
            for found in pattern.finditer(text)
            if found.groupdict().get("value") not in EMULATOR_DUMMY_VALUES]


def repository_files() -> list[Path]:
    """Files git tracks plus untracked files it does not ignore, as they are in the working tree."""
    listed = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], capture_output=True, text=True, check=True).stdout
    return [path for name in sorted(set(listed.split("\0"))) if name and (path := REPO_ROOT / name).is_file()]


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    return None if b"\0" in data else data.decode("utf-8", errors="replace")


def _fake_access_key() -> str:
    return "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def _fake_secret_key() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "/+") for _ in range(40))


def test_the_emulator_credentials_are_the_public_dummy() -> None:
    assert EMULATOR_DUMMY_VALUES == {"testing"}


@pytest.mark.parametrize("planted", [
    lambda: f"aws_access_key_id = {_fake_access_key()}",
    lambda: "AWS_SECRET_ACCESS_KEY=" + json.dumps(_fake_secret_key()),
    lambda: "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE",
    lambda: "-----BEGIN OPENSSH " + "PRIVATE KEY-----",
    lambda: "token = 'ghp_" + "a1" * 18 + "'",
    lambda: 'db_password: "' + "hunter2hunter2" + '"',
], ids=["access-key-id", "secret-key", "rsa-key", "openssh-key", "github-token", "password"])
def test_the_scan_finds_planted_credentials(planted: Callable[[], str]) -> None:
    assert credential_findings(f"x = 1\n{planted()}\n")


def test_the_scan_allows_only_the_emulator_dummy() -> None:
    assert credential_findings('aws_secret_access_key="testing"') == []
    assert credential_findings("aws_secret_access_key=" + json.dumps("testing2"))


def test_no_credentials_in_the_repository() -> None:
    files = repository_files()
    assert len(files) > 50, "git listed too few files to have scanned the repository"
    findings = [f"{path.relative_to(REPO_ROOT)}: {finding}"
                for path in files if (text := _text(path)) is not None
                for finding in credential_findings(text)]
    assert findings == []


# -- logs of the real handlers ---------------------------------------------------------------------

@dataclass(frozen=True)
class LogLine:
    level: int
    text: str


class CapturedLogs(logging.Handler):
    """Keeps every record of the handlers' logger, formatted by Powertools as CloudWatch receives it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(observability.logger.registered_formatter)
        self.lines: list[LogLine] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(LogLine(record.levelno, self.format(record)))


@dataclass(frozen=True)
class PipelineRun:
    inputs: list[str]
    logs: list[LogLine]
    credentials: dict[str, str]
    outcomes: list[dict[str, Any]]


def _context(step: str) -> LambdaContext:
    name = f"gridflow-test-{step}"
    return LambdaContext(function_name=name, function_version="$LATEST",
                                  invoked_function_arn=f"arn:aws:lambda:{REGION}:123456789012:function:{name}",
                                  memory_limit_in_mb=1024, aws_request_id=str(uuid.uuid4()),
                                  log_group_name=f"/aws/lambda/{name}", log_stream_name="test", timeout_seconds=300)


def _lambda_error(error: Exception) -> dict[str, str]:
    """What a Catch puts in the state for a failed Lambda: the error name and the runtime's error JSON."""
    return {"Error": type(error).__name__,
            "Cause": json.dumps({"errorType": type(error).__name__, "errorMessage": str(error)})}


def _create_stack() -> str:
    """The bucket, tables and topic the handlers use, shaped as infra/ creates them; returns the topic ARN."""
    boto3.client("s3").create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    dynamodb = boto3.client("dynamodb")
    keys = {"KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            "BillingMode": "PAY_PER_REQUEST"}
    string_attributes = [{"AttributeName": name, "AttributeType": "S"} for name in ("pk", "sk")]
    dynamodb.create_table(TableName=TOTALS_TABLE, AttributeDefinitions=string_attributes, **keys)
    dynamodb.create_table(
        TableName=AUDIT_TABLE, **keys,
        AttributeDefinitions=string_attributes + [{"AttributeName": name, "AttributeType": "S"}
                                                  for name in ("status", "updated_at")],
        GlobalSecondaryIndexes=[{"IndexName": "by_status", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "status", "KeyType": "HASH"},
                                               {"AttributeName": "updated_at", "KeyType": "RANGE"}]}])
    return boto3.client("sns").create_topic(Name="gridflow-test-alerts")["TopicArn"]


def _ingest(feed: str, name: str, content: str) -> dict[str, Any]:
    """Drop the file under inbound/ and run it through the handlers as the state machine would."""
    key = f"inbound/{feed}/{name}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=content.encode())
    execution = f"exec-{uuid.uuid4().hex[:8]}"
    event = {"version": "0", "source": "aws.s3", "detail-type": "Object Created", "region": REGION,
             "detail": {"bucket": {"name": BUCKET}, "object": {"key": key, "size": len(content.encode())}}}
    state: dict[str, Any] = {"event": event}
    file = register.handler({"event": event, "execution": execution}, _context("register"))
    state["file"] = {"value": file}
    try:
        plan = validate.handler({"file": file, "execution": execution}, _context("validate"))
    except Exception as invalid:  # the state machine's Catch on InvalidFile/UnknownFeed
        state["error"] = _lambda_error(invalid)
        return quarantine.handler({"state": state, "execution": execution}, _context("quarantine"))
    chunks = [transform_chunk.handler({"file": file, "chunk": chunk, "execution": execution},
                                      _context("transform_chunk")) for chunk in plan["chunks"]]
    totals = aggregate.handler({"file": file, "chunks": chunks, "execution": execution}, _context("aggregate"))
    return finalize.handler({"file": file, "plan": plan, "totals": totals, "execution": execution},
                            _context("finalize"))


def _fail_after_register(feed: str, name: str, content: str, failure: Exception) -> dict[str, Any]:
    """Register a file, then run Record Failure as if a later state had failed with `failure`."""
    key = f"inbound/{feed}/{name}"
    boto3.client("s3").put_object(Bucket=BUCKET, Key=key, Body=content.encode())
    execution = f"exec-{uuid.uuid4().hex[:8]}"
    event = {"detail": {"bucket": {"name": BUCKET}, "object": {"key": key}}}
    file = register.handler({"event": event, "execution": execution}, _context("register"))
    state = {"event": event, "file": {"value": file}, "error": _lambda_error(failure)}
    return record_failure.handler({"state": state, "execution": execution}, _context("record_failure"))


def _sample(relative: str) -> str:
    return (SAMPLES / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def pipeline_run() -> Iterator[PipelineRun]:
    lcl = _sample("lcl_halfhourly/lcl_sample.csv")
    lcl_header, _, lcl_rows = lcl.partition("\n")
    lcl_rejects = lcl + "MAC900001,2024-01-02 00:00:00, not-a-number \nMAC900001,2024-01-02 00:30:00, -7.5 \n"
    gentrack = _sample("gentrack_wide/gentrack_sample.csv")
    merge_conflict = _sample("lcl_halfhourly/lcl_merge_conflict.csv")
    parser_error = ValueError(f"CSV parse error: expected 3 columns, got 4: {lcl_rows.splitlines()[3]},x")
    credentials = {"AWS_ACCESS_KEY_ID": _fake_access_key(), "AWS_SECRET_ACCESS_KEY": _fake_secret_key()}
    captured = CapturedLogs()
    handlers_logger = logging.getLogger(observability.logger.service)
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in {**credentials, "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
                            "DATA_BUCKET": BUCKET, "TOTALS_TABLE": TOTALS_TABLE, "AUDIT_TABLE": AUDIT_TABLE,
                            "CHUNK_BYTES": str(1024 * 1024), "LOG_LEVEL": "INFO"}.items():
            env.setenv(name, value)
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        env.delenv("AWS_ENDPOINT_URL", raising=False)
        env.setenv("ALERT_TOPIC_ARN", _create_stack())
        handlers_logger.addHandler(captured)
        try:
            outcomes = [
                _ingest("lcl_halfhourly", "MAC900001.csv", lcl),
                _ingest("gentrack_wide", "gentrack.csv", gentrack),
                _ingest("lcl_halfhourly", "with-rejects.csv", lcl_rejects),
                _ingest("lcl_halfhourly", "no-header.csv", lcl_rows),
                _ingest("lcl_halfhourly", "conflict.csv", merge_conflict),
                _fail_after_register("lcl_halfhourly", "parse-error.csv", lcl.replace("0.1", "0.2"), parser_error),
            ]
        finally:
            handlers_logger.removeHandler(captured)
    yield PipelineRun(inputs=[lcl, gentrack, lcl_rejects, merge_conflict, str(parser_error)],
                      logs=captured.lines, credentials=credentials, outcomes=outcomes)


def _data_rows(text: str) -> list[list[str]]:
    """The fields of every line that holds a meter reading (a line with a digit and a delimiter)."""
    return [[field.strip() for field in line.split(",")] for line in text.splitlines()
            if "," in line and any(character.isdigit() for character in line)
            and not line.startswith(("<<<<<<<", "=======", ">>>>>>>"))]


def _holds_row(line: str, fields: list[str]) -> bool:
    """A log line holds a row when it has the row's text, or every one of its non-empty fields."""
    present = [field for field in fields if field]
    return ",".join(fields) in line or all(field in line for field in present)


def test_the_handlers_ran_every_path(pipeline_run: PipelineRun) -> None:
    statuses = [outcome["status"] for outcome in pipeline_run.outcomes]
    assert statuses == ["LOADED", "LOADED", "LOADED", "QUARANTINED", "QUARANTINED", "FAILED"]
    assert pipeline_run.outcomes[2]["rows_rejected"] == pipeline_run.outcomes[0]["rows_rejected"] + 2
    assert pipeline_run.outcomes[3]["rule"] == "header_mismatch"
    assert sum(line.level == logging.INFO for line in pipeline_run.logs) >= 15


def test_every_log_line_is_json_with_the_file_and_execution(pipeline_run: PipelineRun) -> None:
    for line in pipeline_run.logs:
        record = json.loads(line.text)
        assert record["file_id"] and record["execution"].startswith("exec-") and record["step"], record


def test_no_info_log_line_holds_a_data_row(pipeline_run: PipelineRun) -> None:
    rows = [fields for text in pipeline_run.inputs for fields in _data_rows(text)]
    assert len(rows) > 100
    leaks = [line.text for line in pipeline_run.logs if line.level < logging.ERROR
             if any(_holds_row(line.text, fields) for fields in rows)]
    assert leaks == []


def test_the_row_check_sees_a_row_in_a_list_or_as_text() -> None:
    fields = ["MAC900001", "2024-01-01 00:00:00", "0.120"]
    assert _holds_row(json.dumps({"reason": f"the file has {fields}"}), fields)
    assert _holds_row("MAC900001,2024-01-01 00:00:00,0.120", fields)
    assert not _holds_row(json.dumps({"meter": "MAC900001", "rows_loaded": 48}), fields)


def test_no_log_line_holds_the_credentials(pipeline_run: PipelineRun) -> None:
    for line in pipeline_run.logs:
        assert not any(value in line.text for value in pipeline_run.credentials.values())
        assert credential_findings(line.text) == []
