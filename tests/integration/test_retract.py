"""`gridflow retract FILE_ID`: a file's totals and lake rows go, newer files that re-delivered its intervals
are re-netted, the audit records it, and the file loads again afterwards. Driven through the CLI on the
`staging` stack the fault tests use, files in through S3, results read back from DynamoDB and Parquet.
The first three tests are one story, in order: retract the original, load it again, retract the resend.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from gridflow import cli, commands
from gridflow.emulator import fault_injection
from gridflow.executions import Tracked, wait_for
from gridflow.stack import Stack
from tasks.adapters import audit_table
from tasks.domain.file_identity import file_id_for
from tests.integration.faults_support import (NO_REPEATS, FaultPlan, dynamodb_totals, file_items, file_rows,
                                              latest_view_totals,
                                              latest_wins, lcl_readings, repeated_rows, staging_stack, wait_until,
                                              write_lcl)
from tests.real_data import real_file

pytestmark = pytest.mark.e2e

FEED = "lcl_halfhourly"
METER = "MACRETRACT"


@pytest.fixture(scope="module")
def stack(gridflow_up: Any) -> Stack:
    return staging_stack(gridflow_up.printed["endpoint"], gridflow_up.port)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An original and a corrected resend of part of it (real readings of MAC000002, under METER)."""
    folder = tmp_path_factory.mktemp("retract")
    readings = lcl_readings(real_file("lcl_halfhourly/MAC000002.csv"))
    return {
        "original": write_lcl(folder / "original.csv", [(METER, tstp, str(kwh)) for _, tstp, kwh in readings
                                                        if "2013-04-01" <= tstp[:10] <= "2013-04-10"]),
        "resend": write_lcl(folder / "resend.csv", [(METER, tstp, str(kwh * 5 / 4)) for _, tstp, kwh in readings
                                                    if "2013-04-05" <= tstp[:10] <= "2013-04-15"]),
    }


@pytest.fixture(scope="module")
def loaded(stack: Stack, files: dict[str, Path]) -> dict[str, str]:
    """Both files loaded, the original first: the resend nets out the days it re-delivers."""
    ids = {name: commands.ingest(stack, [path], FEED, wait=True)[0]["file_id"] for name, path in files.items()}
    assert _totals(stack) == latest_wins([files["original"], files["resend"]])
    return ids


def _retract(stack: Stack, file_id: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = cli.main(["retract", file_id, "--wait", "--json", "--endpoint", stack.endpoint, "--env",
                     stack.environment])
    [result] = json.loads(capsys.readouterr().out)
    assert code == 0, result
    return result


def _totals(stack: Stack) -> dict[tuple[str, str], Any]:
    totals = dynamodb_totals(stack, FEED, [METER])
    assert latest_view_totals(stack, FEED, [METER]) == totals, "DynamoDB and readings_latest agree"
    assert repeated_rows(stack, FEED) == NO_REPEATS
    return totals


def test_retracting_the_original_re_nets_the_resend(stack: Stack, files: dict[str, Path], loaded: dict[str, str],
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    result = _retract(stack, loaded["original"], capsys)
    assert result["status"] == "RETRACTED" and result["renetted_files"] == [loaded["resend"]]
    assert file_rows(stack, FEED, loaded["original"]) == [] and file_items(stack, loaded["original"]) == []
    assert _totals(stack) == latest_wins([files["resend"]])
    record = audit_table.get_file(stack.audit_table, loaded["original"])
    retraction = [item for item in audit_table.list_file_items(stack.audit_table, loaded["original"])
                  if item.get("action") == "retract"]
    assert record["status"] == "RETRACTED" and record["retracted_items"] == result["items_deleted"] > 0
    assert [item["outcome"] for item in retraction] == ["RETRACTED"]


def test_a_retracted_file_loads_again_in_its_place(stack: Stack, files: dict[str, Path], loaded: dict[str, str],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    [again] = commands.ingest(stack, [files["original"]], FEED, wait=True)
    assert again["status"] == "LOADED" and again["file_id"] == loaded["original"]
    assert _totals(stack) == latest_wins([files["original"], files["resend"]])


def test_retracting_after_work_files_expired_still_finds_everything(stack: Stack, files: dict[str, Path],
                                                                    loaded: dict[str, str],
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """work/ (chunk manifests, partial totals) expires after 7 days; the totals and the lake are enough."""
    s3 = stack.client("s3")
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=stack.data_bucket,
                                                              Prefix=f"work/{loaded['resend']}/"):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=stack.data_bucket, Key=item["Key"])
    result = _retract(stack, loaded["resend"], capsys)
    assert result["renetted_files"] == [] and result["objects_deleted"] > 0
    assert file_rows(stack, FEED, loaded["resend"]) == [] and file_items(stack, loaded["resend"]) == []
    assert _totals(stack) == latest_wins([files["original"]])


def test_a_file_being_loaded_is_not_retracted(stack: Stack, gridflow_up: Any, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = write_lcl(tmp_path / "busy.csv", [("MACBUSY", "2013-06-01 00:00:00", "0.5")])
    plan = FaultPlan(fault_injection.plan_path(gridflow_up.port), stack.environment)
    key = f"inbound/{FEED}/{path.name}"
    etag = hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 - S3's ETag of a single-part upload
    loading = Tracked(key=key, file_id=file_id_for(FEED, etag, path.stat().st_size))
    plan.arm({"id": "hold", "function": plan.function("validate"), "file_id": loading.file_id, "action": "hold"})
    since = datetime.now(timezone.utc) - timedelta(seconds=5)
    stack.client("s3").put_object(Bucket=stack.data_bucket, Key=key, Body=path.read_bytes())
    try:
        wait_until(lambda: (audit_table.get_file(stack.audit_table, loading.file_id) or {}).get("status"))
        code = cli.main(["retract", loading.file_id, "--wait", "--json", "--endpoint", stack.endpoint,
                         "--env", stack.environment])
        [refused] = json.loads(capsys.readouterr().out)
    finally:
        plan.clear()
    wait_for(stack, [loading], since)
    assert code == 1 and refused["status"] == "FAILED" and "FileBusy" in refused["error"]
    assert loading.status == "SUCCEEDED"
    assert audit_table.get_file(stack.audit_table, loading.file_id)["status"] == "LOADED"


def test_retracting_an_unknown_file_fails_with_a_one_line_reason(stack: Stack,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["retract", "no-such-file", "--endpoint", stack.endpoint, "--env", stack.environment])
    error = capsys.readouterr().err.strip()
    assert code == 1 and len(error.splitlines()) == 1 and "no-such-file" in error
