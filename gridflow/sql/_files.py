"""The SQL files under athena/ at the repository root."""

from __future__ import annotations

from pathlib import Path

ATHENA_DIR = Path(__file__).resolve().parents[2] / "athena"
"""athena/ beside the gridflow package: ddl/, views/, reports/."""


def load_sql(name: str) -> str:
    """Text of athena/<name>.sql; name is relative to athena/, e.g. "reports/monthly_consumption"."""
    path = (ATHENA_DIR / name).with_suffix(".sql")
    if not path.is_relative_to(ATHENA_DIR) or not path.is_file():
        raise FileNotFoundError(f"no SQL file {name!r} under {ATHENA_DIR}")
    return path.read_text(encoding="utf-8")


def view_names() -> list[str]:
    """Names of the view files (athena/views/*.sql), in the order they are created."""
    return [f"views/{path.stem}" for path in sorted((ATHENA_DIR / "views").glob("*.sql"))]
