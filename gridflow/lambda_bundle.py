"""Build the one code bundle every task function runs from, reproducibly.

The zip holds ``tasks/**/*.py`` (the handlers and the code they use), ``feeds/*.json``
(the feed specs) and ``glue/*.json`` (the table schema), and nothing else: no
``__pycache__``, no tests. Entries are sorted, dated 1980-01-01 00:00 and carry fixed
permissions, so the same inputs give the same bytes and Terraform's
``source_code_hash`` changes only when the code does. (Compressed bytes also depend on
the zlib build; the hash is stable on one machine and in CI, which is what matters.)

Example
-------
>>> from pathlib import Path
>>> build_bundle(Path("."), Path("build/lambda.zip"))  # doctest: +SKIP
PosixPath('build/lambda.zip')
"""

from __future__ import annotations

import os
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["BUNDLE_PATTERNS", "build_bundle", "bundle_members"]

# (folder under the repo root, glob inside it)
BUNDLE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("tasks", "**/*.py"),
    ("feeds", "*.json"),
    ("glue", "*.json"),
)

_FIXED_DATE = (1980, 1, 1, 0, 0, 0)
_FILE_MODE = 0o100644  # regular file, rw-r--r--
_EXCLUDED_DIRS = frozenset({"__pycache__", "tests", "test", ".pytest_cache"})


def _is_test_module(name: str) -> bool:
    return name.startswith(("test_", ".")) or name.endswith("_test.py") or name == "conftest.py"


def bundle_members(repo_root: Path) -> Iterator[tuple[str, Path]]:
    """(name in the zip, file on disk) for every file the bundle holds, sorted by name."""
    root = Path(repo_root).resolve()
    members: dict[str, Path] = {}
    for folder, pattern in BUNDLE_PATTERNS:
        base = root / folder
        if not base.is_dir():
            continue
        for path in base.glob(pattern):
            relative = path.relative_to(root)
            if not path.is_file() or _EXCLUDED_DIRS.intersection(relative.parts[:-1]):
                continue
            if _is_test_module(path.name):  # also editor droppings such as .#handler.py
                continue
            members[relative.as_posix()] = path
    yield from sorted(members.items())


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # unix, so external_attr is read as a mode
    info.external_attr = _FILE_MODE << 16
    return info


def build_bundle(repo_root: Path, out_path: Path) -> Path:
    """Write the Lambda code bundle of ``repo_root`` to ``out_path`` and return ``out_path``.

    Parameters
    ----------
    repo_root
        The repository root (holding ``tasks/``, ``feeds/``, ``glue/``).
    out_path
        The zip to write; its folder is created. Written atomically (temp file, then rename).

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    members = list(bundle_members(repo_root))
    if not members:
        raise FileNotFoundError(f"nothing to bundle under {repo_root} (expected tasks/, feeds/, glue/)")
    handle, temp_name = tempfile.mkstemp(prefix=".bundle-", suffix=".zip", dir=out_path.parent)
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as bundle:
            for name, path in members:
                bundle.writestr(_zip_info(name), path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED,
                                compresslevel=9)
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, out_path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return out_path
