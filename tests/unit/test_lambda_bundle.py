"""The Lambda code bundle: reproducible bytes, the right files and nothing else."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import pytest

from gridflow.lambda_bundle import build_bundle, bundle_members

REPO_ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ("register", "validate", "transform_chunk", "aggregate", "finalize", "quarantine", "record_failure")


def _write(root: Path, relative: str, text: str = "x = 1\n") -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture()
def small_repo(tmp_path: Path) -> Path:
    """A repository with code, specs, schema and every kind of file that must stay out."""
    root = tmp_path / "repo"
    _write(root, "tasks/__init__.py", "")
    _write(root, "tasks/handlers/__init__.py", "")
    _write(root, "tasks/handlers/register.py", "def handler(event, context):\n    return {}\n")
    _write(root, "tasks/domain/chunks.py")
    _write(root, "feeds/lcl_halfhourly.json", "{}")
    _write(root, "glue/readings.json", "{}")
    # must stay out
    _write(root, "tasks/__pycache__/chunks.cpython-311.pyc", "bytecode")
    _write(root, "tasks/domain/__pycache__/chunks.cpython-311.py", "not really")
    _write(root, "tasks/tests/test_chunks.py")
    _write(root, "tasks/domain/test_rules.py")
    _write(root, "tasks/domain/conftest.py")
    _write(root, "tasks/domain/.#chunks.py")
    _write(root, "tasks/domain/notes.txt", "text")
    _write(root, "feeds/README.md", "text")
    _write(root, "feeds/drafts/other.json", "{}")
    _write(root, "tests/unit/test_x.py")
    _write(root, "gridflow/cli.py")
    return root


def _names(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle) as archive:
        return archive.namelist()


def test_given_the_same_inputs_when_built_twice_then_the_bytes_are_identical(small_repo: Path,
                                                                             tmp_path: Path) -> None:
    first = build_bundle(small_repo, tmp_path / "a" / "bundle.zip")
    # touching every file (new mtimes) and another umask must not change a byte
    for path in small_repo.rglob("*"):
        if path.is_file():
            os.utime(path, (1_700_000_000, 1_700_000_000))
            path.chmod(0o600)
    second = build_bundle(small_repo, tmp_path / "b" / "bundle.zip")
    assert hashlib.sha256(first.read_bytes()).hexdigest() == hashlib.sha256(second.read_bytes()).hexdigest()


def test_given_a_change_in_code_when_rebuilt_then_the_bytes_differ(small_repo: Path, tmp_path: Path) -> None:
    before = build_bundle(small_repo, tmp_path / "before.zip").read_bytes()
    _write(small_repo, "tasks/domain/chunks.py", "x = 2\n")
    after = build_bundle(small_repo, tmp_path / "after.zip").read_bytes()
    assert before != after


def test_bundle_holds_code_specs_and_schema_only(small_repo: Path, tmp_path: Path) -> None:
    names = _names(build_bundle(small_repo, tmp_path / "bundle.zip"))
    assert names == [
        "feeds/lcl_halfhourly.json",
        "glue/readings.json",
        "tasks/__init__.py",
        "tasks/domain/chunks.py",
        "tasks/handlers/__init__.py",
        "tasks/handlers/register.py",
    ]


def test_entries_have_fixed_dates_and_permissions(small_repo: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(build_bundle(small_repo, tmp_path / "bundle.zip")) as archive:
        for info in archive.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.external_attr >> 16 == 0o100644
            assert info.compress_type == zipfile.ZIP_DEFLATED


def test_a_failed_build_leaves_no_partial_zip(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        build_bundle(tmp_path / "empty", tmp_path / "out" / "bundle.zip")
    assert not list((tmp_path / "out").glob("*"))


def test_the_real_repository_bundles_its_handlers_specs_and_schema(tmp_path: Path) -> None:
    names = set(_names(build_bundle(REPO_ROOT, tmp_path / "bundle.zip")))
    assert "glue/readings.json" in names
    assert not any("__pycache__" in name or "/tests/" in name or name.startswith("tests/") for name in names)
    for spec in sorted((REPO_ROOT / "feeds").glob("*.json")):
        assert f"feeds/{spec.name}" in names
    for handler in HANDLERS:
        module = REPO_ROOT / "tasks" / "handlers" / f"{handler}.py"
        if module.is_file():  # each handler module is checked as soon as it exists
            assert f"tasks/handlers/{handler}.py" in names


def test_members_are_sorted_and_relative(small_repo: Path) -> None:
    names = [name for name, _ in bundle_members(small_repo)]
    assert names == sorted(names)
    assert all(not name.startswith("/") and "\\" not in name for name in names)
