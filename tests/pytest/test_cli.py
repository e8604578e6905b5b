"""The segment-warehouse console script: help, check, the progress display, project paths."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from segment_warehouse import cli, paths
from segment_warehouse.pipeline.progress import ProgressDisplay

PROJECT_DIR = Path(__file__).resolve().parents[2]
RECORDED_LOG = Path(__file__).parent / "data" / "dbt_build_log.jsonl"


def run_cli(*args: str, cwd: Path = PROJECT_DIR) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("SEGMENT_")}
    return subprocess.run(
        [sys.executable, "-m", "segment_warehouse.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
        env={**env, "PYTHONPATH": str(PROJECT_DIR)},
    )


# ---- --help ---------------------------------------------------------------------------------


def test_the_top_level_help_lists_every_command() -> None:
    done = run_cli("--help")
    assert done.returncode == 0, done.stderr
    for command, text in cli.COMMANDS.items():
        assert command in done.stdout and text[:30] in done.stdout


@pytest.mark.parametrize("command", list(cli.COMMANDS))
def test_every_command_has_its_own_help(command: str) -> None:
    done = run_cli("--project-dir", str(PROJECT_DIR), command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"usage: segment-warehouse {command}"), done.stdout[:200]


def test_an_unknown_command_is_refused() -> None:
    done = run_cli("explode")
    assert done.returncode == 2
    assert "invalid choice" in done.stderr


# ---- paths come from the working directory or --project-dir --------------------------------


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal project tree (dbt_project.yml, profiles) outside the checkout."""
    for name in (paths.WAREHOUSE_ENV, paths.PUBLISHED_ENV, paths.RAW_DATA_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    copy = tmp_path / "copy of the project"
    (copy / "models" / "marts").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "dbt_project.yml", copy / "dbt_project.yml")
    shutil.copytree(PROJECT_DIR / "profiles", copy / "profiles")
    yield copy
    paths.use_project_dir(None)


def test_paths_come_from_the_working_directory_not_the_installed_package(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project_copy / "models" / "marts")  # found by walking up
    project = paths.project_paths()
    assert project.root == project_copy.resolve()
    assert project.warehouse == project_copy.resolve() / "warehouse" / "segment_warehouse.duckdb"
    assert project.published == (
        project_copy.resolve() / "warehouse" / "published" / "segment_warehouse.duckdb"
    )
    assert project.raw_data_dir == project_copy.resolve() / "data" / "demo" / "raw"
    assert project.profiles_dir == project_copy.resolve() / "profiles"
    for path in (project.warehouse, project.published, project.target_dir, project.report):
        assert PROJECT_DIR not in path.parents


def test_project_dir_option_wins_over_the_working_directory(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(PROJECT_DIR)
    paths.use_project_dir(project_copy)
    assert paths.project_paths().published.is_relative_to(project_copy.resolve())
    paths.use_project_dir(None)
    assert paths.project_paths().root == PROJECT_DIR


def test_relative_overrides_are_taken_from_the_project_dir(project_copy: Path) -> None:
    project = paths.ProjectPaths(
        project_copy, environ={paths.WAREHOUSE_ENV: "w/x.duckdb", paths.PUBLISHED_ENV: "/abs.db"}
    )
    assert project.warehouse == project_copy / "w" / "x.duckdb"
    assert project.published == Path("/abs.db")


def test_outside_any_project_the_command_says_so(tmp_path: Path) -> None:
    done = run_cli("report", cwd=tmp_path)
    assert done.returncode == 2
    assert "no dbt_project.yml" in done.stderr and "--project-dir" in done.stderr


def test_a_command_run_in_a_copy_reads_and_writes_the_copy(project_copy: Path) -> None:
    done = run_cli("report", cwd=project_copy)
    expected = project_copy / "warehouse" / "published" / "segment_warehouse.duckdb"
    assert done.returncode == 1
    assert str(expected) in done.stderr, done.stderr


# ---- the progress display -------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def test_progress_lines_from_recorded_dbt_json_logs() -> None:
    out = io.StringIO()
    display = ProgressDisplay(out, clock=FakeClock(), interval_seconds=1.0)
    progress = display.run(RECORDED_LOG.read_text().splitlines())
    lines = out.getvalue().splitlines()
    # 151 nodes announced; 7 finished: 3 models, 1 seed, 3 tests (the hook is no node)
    assert progress.total == 151
    assert progress.done == 7
    assert progress.layer == "intermediate"
    assert [failure.node for failure in progress.failures] == ["not_null_failing_column"]
    assert progress.failures[0].status == "fail"
    assert any(line.endswith("building 151 nodes") for line in lines)
    assert any("project parsed: 88 models" in line for line in lines)
    assert any("nodes done, staging" in line for line in lines)
    assert any("nodes done, intermediate" in line for line in lines)
    failed = [line for line in lines if "FAILED not_null_failing_column (fail)" in line]
    assert len(failed) == 1 and "FAIL 3" in failed[0] and "\x1b" not in failed[0]
    assert lines[-1].endswith("not a json line: a traceback")  # passed through, not lost
    assert all(line.startswith("[0:") for line in lines)  # elapsed time on every line
    assert display.finish(1).endswith(
        "failed (dbt exited with 1): 7/151 nodes done, intermediate, 1 failed"
    )


def test_progress_prints_at_most_one_status_line_per_interval() -> None:
    out = io.StringIO()
    display = ProgressDisplay(out, clock=lambda: 0.0, interval_seconds=60.0)
    display.run(RECORDED_LOG.read_text().splitlines())
    status_lines = [line for line in out.getvalue().splitlines() if "nodes done" in line]
    # one when the staging layer starts and one when intermediate starts; the clock never
    # moves, so no interval elapses for a line per finished node
    assert len(status_lines) == 2
    assert "FAILED not_null_failing_column" in out.getvalue()  # failures always show


def _node_event(name: str, index: int, path: str, status: str) -> str:
    node_info = {
        "unique_id": f"model.p.{path.rsplit('/', 1)[-1]}",
        "node_name": path.rsplit("/", 1)[-1],
        "node_path": f"{path}.sql",
        "node_status": status,
        "resource_type": "model",
    }
    data = {"index": index, "total": 4, "node_info": node_info}
    return json.dumps({"info": {"name": name, "level": "info", "msg": name}, "data": data})


def test_progress_shows_the_earliest_layer_still_running() -> None:
    """A mart without parents (a time spine) starting first does not make the run 'marts'."""
    out = io.StringIO()
    display = ProgressDisplay(out, clock=FakeClock(), interval_seconds=0.0)
    events = [
        _node_event("LogStartLine", 1, "marts/semantic/spine", "started"),
        _node_event("LogStartLine", 2, "staging/shop/base/base_shop__orders", "started"),
        _node_event("LogModelResult", 1, "marts/semantic/spine", "success"),
        _node_event("LogModelResult", 2, "staging/shop/base/base_shop__orders", "success"),
        _node_event("LogStartLine", 3, "intermediate/core/int_orders", "started"),
        _node_event("LogModelResult", 3, "intermediate/core/int_orders", "success"),
    ]
    layers = [display.feed(event) and display.progress.layer for event in events]
    assert layers[:2] == ["marts", "staging"]
    assert display.progress.layer == "intermediate"
    status_lines = [line for line in out.getvalue().splitlines() if "nodes done" in line]
    assert status_lines[-1].endswith("3/4 nodes done, intermediate")
    assert any(line.endswith("1/4 nodes done, staging") for line in status_lines)


# ---- check: the contract on raw files, no marts ----------------------------------------------


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from segment_warehouse.demo.generator import generate

    out = tmp_path_factory.mktemp("check-demo")
    generate(out, customers=1500, seed=7)
    return out / "raw"


@pytest.mark.dbt
def test_check_on_good_demo_data_prints_the_gates_and_passes(small_demo: Path) -> None:
    done = run_cli("--project-dir", str(PROJECT_DIR), "check", str(small_demo))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    lines = done.stdout.splitlines()
    assert "nodes done" in done.stdout  # progress while dbt runs
    header = next(line for line in lines if line.startswith("table "))
    for column in ("file", "read", "staged", "quarantined", "top reasons", "verdict"):
        assert column in header
    orders = next(line for line in lines if line.startswith("shop.orders "))
    assert "orders.parquet" in orders
    raw_rows = len(pd.read_parquet(small_demo / "orders.parquet"))
    assert orders.split()[2] == str(raw_rows)
    assert lines[-1] in {"verdict: pass", "verdict: warn"}
    # nothing beyond the gates was built: no mart in the progress lines
    assert ", marts" not in done.stdout


@pytest.mark.dbt
def test_check_on_a_bad_file_fails_naming_it(small_demo: Path, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    shutil.copytree(small_demo, raw)
    orders = pd.read_parquet(raw / "orders.parquet")
    orders.loc[orders.index[: len(orders) // 2], "amount"] = "not a number"
    (raw / "orders.parquet").unlink()
    orders.to_csv(raw / "orders.csv", index=False)
    done = run_cli("--project-dir", str(PROJECT_DIR), "check", str(raw))
    assert done.returncode == 1, done.stdout[-3000:]
    row = next(line for line in done.stdout.splitlines() if line.startswith("shop.orders "))
    assert "orders.csv" in row and row.split()[-1] == "error"
    assert "invalid_value" in row
    assert f"{raw / 'orders.csv'}" in done.stdout
    assert done.stdout.splitlines()[-1] == "verdict: error"


def test_demo_data_is_generated_in_the_project_only_when_missing_or_stale(
    project_copy: Path,
) -> None:
    shutil.copytree(PROJECT_DIR / "seeds", project_copy / "seeds")
    project = paths.ProjectPaths(project_copy)
    assert cli.ensure_demo_data(project, 300, 1, force=False)
    orders = project_copy / "data" / "demo" / "raw" / "orders.parquet"
    written = orders.stat().st_mtime_ns
    assert not cli.ensure_demo_data(project, 300, 1, force=False)  # current: kept
    assert orders.stat().st_mtime_ns == written
    assert cli.ensure_demo_data(project, 300, 2, force=False)  # another seed: regenerated
    assert [stamp.name for stamp in project.demo_dir.glob(".generated-*")] == [".generated-300-2"]
