"""Where the project is, and every path derived from it: one definition.

The project directory is the one holding ``dbt_project.yml``: the one given on the command
line (``segment-warehouse --project-dir DIR``, which calls :func:`use_project_dir`), else
the first directory holding it from the working directory up. It is never worked out from
where the package is installed: the package is installed editable from one checkout, and
a command run in a copy of the checkout must read and write the copy.

Everything else is derived from the project directory: the warehouse dbt writes, the
published copy BI tools read, the raw data, the profiles, dbt's target directory. The
warehouse, the published copy and the raw data directory can be moved with the same
environment variables that the profiles and the project read (``SEGMENT_WAREHOUSE_DB``,
``SEGMENT_WAREHOUSE_PUBLISHED_DB``, ``SEGMENT_WAREHOUSE_RAW_DATA_DIR``); a relative value is
relative to the project directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PROJECT_FILE = "dbt_project.yml"
WAREHOUSE_ENV = "SEGMENT_WAREHOUSE_DB"
PUBLISHED_ENV = "SEGMENT_WAREHOUSE_PUBLISHED_DB"
RAW_DATA_DIR_ENV = "SEGMENT_WAREHOUSE_RAW_DATA_DIR"
AS_OF_DATE_ENV = "SEGMENT_WAREHOUSE_AS_OF_DATE"
"""The as_of_date the job passes to dbt (int_as_of_date_resolved); var as_of_date wins."""

DEFAULT_WAREHOUSE = Path("warehouse/segment_warehouse.duckdb")
DEFAULT_PUBLISHED = Path("warehouse/published/segment_warehouse.duckdb")
DEFAULT_DEMO_DIR = Path("data/demo")

_chosen_project_dir: Path | None = None


class ProjectNotFoundError(FileNotFoundError):
    """No dbt_project.yml in the given directory, or in the working directory or above it."""


def find_project_dir(start: Path | None = None) -> Path:
    """Return the first directory holding dbt_project.yml from ``start`` (default cwd) up.

    Raises:
        ProjectNotFoundError: neither ``start`` nor any directory above it holds one.

    """
    start = Path(start or Path.cwd()).resolve()
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise ProjectNotFoundError(
        f"no {PROJECT_FILE} in {start} or above it: run in the project directory "
        "or pass --project-dir"
    )


def use_project_dir(project_dir: Path | str | None) -> None:
    """Make ``project_dir`` the project of this process (None: find it from the cwd again).

    Raises:
        ProjectNotFoundError: ``project_dir`` holds no dbt_project.yml.

    """
    global _chosen_project_dir
    if project_dir is None:
        _chosen_project_dir = None
        return
    directory = Path(project_dir).resolve()
    if not (directory / PROJECT_FILE).is_file():
        raise ProjectNotFoundError(f"{directory} holds no {PROJECT_FILE}")
    _chosen_project_dir = directory


def project_dir() -> Path:
    """Return the project directory of this process (see the module's docstring)."""
    return _chosen_project_dir or find_project_dir()


@dataclass(frozen=True)
class ProjectPaths:
    """The paths of one project directory."""

    root: Path
    environ: Mapping[str, str] | None = None
    """Where the overriding environment variables are read (default ``os.environ``)."""

    def _from_env(self, name: str, default: Path) -> Path:
        environ = os.environ if self.environ is None else self.environ
        value = environ.get(name)
        return self.resolve(value if value else default)

    def resolve(self, path: Path | str) -> Path:
        """Return ``path`` as an absolute path, a relative one taken from the project dir."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else self.root / candidate

    @property
    def warehouse(self) -> Path:
        """The DuckDB file dbt writes (``$SEGMENT_WAREHOUSE_DB``)."""
        return self._from_env(WAREHOUSE_ENV, DEFAULT_WAREHOUSE)

    @property
    def published(self) -> Path:
        """The published copy BI tools read (``$SEGMENT_WAREHOUSE_PUBLISHED_DB``)."""
        return self._from_env(PUBLISHED_ENV, DEFAULT_PUBLISHED)

    @property
    def demo_dir(self) -> Path:
        """Where the demo generator writes (raw files and planted ground truth)."""
        return self.root / DEFAULT_DEMO_DIR

    @property
    def raw_data_dir(self) -> Path:
        """The raw files dbt reads (``$SEGMENT_WAREHOUSE_RAW_DATA_DIR``; default demo data)."""
        return self._from_env(RAW_DATA_DIR_ENV, DEFAULT_DEMO_DIR / "raw")

    @property
    def profiles_dir(self) -> Path:
        """The dbt profiles of the project."""
        return self.root / "profiles"

    @property
    def target_dir(self) -> Path:
        """The dbt target directory (compiled SQL, manifest, run results)."""
        return self.root / "target"

    @property
    def seeds_dir(self) -> Path:
        """The reference seeds."""
        return self.root / "seeds"

    @property
    def models_dir(self) -> Path:
        """The dbt models."""
        return self.root / "models"

    @property
    def report(self) -> Path:
        """The HTML segment report, beside the published copy."""
        return self.published.parent / "report" / "segment_report.html"

    @property
    def superset_home(self) -> Path:
        """Superset's home (config, metadata database, logs)."""
        return self.root / "warehouse" / "superset"

    def dbt_env(self) -> dict[str, str]:
        """Environment variables that point dbt's profiles and project at these paths."""
        return {
            WAREHOUSE_ENV: str(self.warehouse),
            RAW_DATA_DIR_ENV: str(self.raw_data_dir),
            "DBT_PROFILES_DIR": str(self.profiles_dir),
        }


def project_paths(directory: Path | str | None = None) -> ProjectPaths:
    """Return the paths of ``directory`` (default: this process's project directory)."""
    if directory is None:
        return ProjectPaths(project_dir())
    return ProjectPaths(find_project_dir(Path(directory)))


def __getattr__(name: str) -> Path:
    # PROJECT_DIR is looked up when it is imported, so that it follows use_project_dir
    if name == "PROJECT_DIR":
        return project_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
