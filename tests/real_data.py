"""Real files written by others live in ../shared/data/real/ and are read in place, never copied here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"


def real_file(relative: str) -> Path:
    """The path of a real data file; skips the test outside this workplace, fails under CI=true."""
    path = REAL_DATA / relative
    if path.is_file():
        return path
    message = f"real data file {path} is missing (it lives beside the repository in shared/data/real/)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)
