"""What a refresh reads, as one digest: equal digests mean the build would be the same.

A refresh is a function of the raw files, the project (models, macros, seeds, tests, the
Python package the Python models import, the profiles), the dbt target and vars, the
``as_of_date`` and the publication settings. :func:`inputs_digest` hashes all of them, the
files by content, so the job can tell that a run would rebuild exactly what is already
published and skip it (:func:`segment_warehouse.pipeline.job.refresh`).

It fails safe: whatever cannot be hashed (raw data read from input tables instead of
files, a raw path that does not exist) gives no digest, and a run without a digest always
builds. A file that changed and changed back costs a rebuild, never a skip it should not
have made.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import segment_warehouse
from segment_warehouse.paths import RAW_DATA_DIR_ENV, ProjectPaths

DBT_SUFFIXES = (".sql", ".py", ".yml", ".yaml", ".md", ".csv", ".json")
PROJECT_INPUTS = {
    "dbt_project.yml": None,
    "models": DBT_SUFFIXES,
    "macros": DBT_SUFFIXES,
    "seeds": DBT_SUFFIXES,
    "tests": (".sql", ".yml", ".yaml"),  # dbt's data tests, not pytest's
    "profiles": (".yml", ".yaml"),
}
"""The files and folders of the dbt project a build reads (relative to the project), and
the suffixes of the files hashed in each (None: the file itself)."""
PACKAGE_SUFFIXES = (".py",)
"""The package files hashed: the modules the Python models and the job import."""
_CHUNK = 1 << 20


def _files(root: Path, suffixes: tuple[str, ...] | None = None) -> Iterable[Path]:
    """Every regular file under ``root`` (or ``root`` itself), sorted; caches left out."""
    if root.is_file():
        yield root
        return
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts or not path.is_file():
            continue
        if suffixes is None or path.suffix in suffixes:
            yield path


def _hash_files(digest: Any, label: str, root: Path, suffixes: tuple[str, ...] | None) -> None:
    """Feed the relative name, size and content of every file under ``root`` to ``digest``."""
    digest.update(f"[{label}]\n".encode())
    for path in _files(root, suffixes):
        relative = path.relative_to(root) if path != root else Path(path.name)
        digest.update(f"{relative.as_posix()}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)


def raw_data_dir(
    project: ProjectPaths, variables: Mapping[str, Any], environ: Mapping[str, str]
) -> Path | None:
    """Return the raw files a build with ``variables`` reads (None: it reads input tables)."""
    if variables.get("raw.input_schema"):
        return None
    configured = variables.get("raw.data_dir") or environ.get(RAW_DATA_DIR_ENV)
    return project.resolve(configured) if configured else project.raw_data_dir


def inputs_digest(
    project: ProjectPaths,
    settings: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """Return the SHA-256 of everything a refresh reads, or None when it cannot be known.

    ``settings`` holds what shapes the build besides files: the dbt vars (``vars``, with
    ``as_of_date``), the target and the publication options; it is hashed as sorted JSON.
    """
    environ = os.environ if environ is None else environ
    raw_dir = raw_data_dir(project, settings.get("vars", {}), environ)
    if raw_dir is None or not raw_dir.is_dir():
        return None
    digest = hashlib.sha256()
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    _hash_files(digest, "raw", raw_dir, None)
    for name, suffixes in PROJECT_INPUTS.items():
        path = project.root / name
        if path.exists():
            _hash_files(digest, name, path, suffixes)
    package = Path(segment_warehouse.__file__).resolve().parent
    _hash_files(digest, "package", package, PACKAGE_SUFFIXES)
    return digest.hexdigest()
