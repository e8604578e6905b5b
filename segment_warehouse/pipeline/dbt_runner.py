"""Run dbt commands against the project from Python (the CLI, scripts and tests).

Each command runs in its own process: dbt-duckdb keeps its DuckDB connection open for
the life of the process that ran dbt, and DuckDB refuses other connections to a file
that one process holds for writing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from segment_warehouse.paths import ProjectPaths, project_paths


class DbtCommandError(RuntimeError):
    """A dbt command failed; the message carries dbt's output."""


@dataclass
class DbtRun:
    """What a dbt invocation did: success flag, per-node statuses and its output."""

    success: bool
    statuses: dict[str, str] = field(default_factory=dict)
    output: str = ""

    def failed_nodes(self) -> dict[str, str]:
        """Nodes whose status is not success, pass, warn or no-op.

        Saved queries and exposures report no-op: they have nothing to run.
        """
        return {
            name: status
            for name, status in self.statuses.items()
            if status not in {"success", "pass", "warn", "no-op"}
        }


def dbt_executable() -> str:
    """Return the dbt of the running Python environment, else the one on PATH."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


def dbt_command(
    args: Sequence[str],
    *,
    target: str,
    target_path: Path,
    variables: Mapping[str, Any] | None = None,
    log_path: Path | None = None,
    project: ProjectPaths | None = None,
) -> list[str]:
    """Return the command line of ``dbt <args>`` on the project, its profiles and ``target``.

    ``project`` defaults to the current project (:func:`segment_warehouse.paths.project_paths`).
    """
    project = project or project_paths()
    command = [
        dbt_executable(),
        *args,
        "--project-dir",
        str(project.root),
        "--profiles-dir",
        str(project.profiles_dir),
        "--target",
        target,
        "--target-path",
        str(target_path),
    ]
    if variables:
        command += ["--vars", json.dumps(dict(variables))]
    if log_path is not None:
        command += ["--log-path", str(log_path)]
    return command


def run_dbt(
    args: Sequence[str],
    *,
    target: str = "dev",
    variables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    target_path: Path | None = None,
    log_path: Path | None = None,
    check: bool = True,
    cwd: Path | None = None,
    project: ProjectPaths | None = None,
) -> DbtRun:
    """Run a dbt command on this project and report what happened.

    Args:
        args: The dbt command and its own arguments, e.g. ``["build", "--select", "x"]``.
        target: Profile target (dev, test or lint).
        variables: dbt vars, passed as ``--vars`` JSON.
        env: Extra environment variables (profiles read SEGMENT_WAREHOUSE_DB and
            SEGMENT_WAREHOUSE_TEST_DB, the project reads SEGMENT_WAREHOUSE_RAW_DATA_DIR).
        target_path: Where dbt writes compiled SQL and artifacts (keeps runs apart).
        log_path: Where dbt writes its log file.
        check: Raise DbtCommandError when the command does not succeed.
        cwd: Working directory of the dbt process (default the project directory);
            relative database paths in the profile resolve against it.
        project: The project (default the current one, :mod:`segment_warehouse.paths`).

    Returns:
        A DbtRun with the success flag, each node's status from run_results.json and
        dbt's console output.

    """
    project = project or project_paths()
    target_path = target_path or project.target_dir
    command = dbt_command(
        args,
        target=target,
        target_path=target_path,
        variables=variables,
        log_path=log_path,
        project=project,
    )

    results_file = Path(target_path) / "run_results.json"
    results_file.unlink(missing_ok=True)
    completed = subprocess.run(
        command,
        cwd=cwd or project.root,
        env={**os.environ, "DBT_USE_COLORS": "false", **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr

    statuses: dict[str, str] = {}
    if results_file.exists():
        for node_result in json.loads(results_file.read_text())["results"]:
            statuses[node_result["unique_id"].split(".")[2]] = node_result["status"]
    run = DbtRun(success=completed.returncode == 0, statuses=statuses, output=output)
    if check and not run.success:
        raise DbtCommandError(f"dbt {' '.join(args)} failed:\n{output[-5000:]}")
    return run
