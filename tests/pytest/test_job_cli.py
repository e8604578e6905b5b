"""The scheduled job's command line and date logic, without dbt."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from segment_warehouse import job
from segment_warehouse.dbt_runner import PROJECT_DIR


def _dates(*days: str) -> list[dt.date]:
    return [dt.date.fromisoformat(day) for day in days]


@pytest.mark.parametrize(
    ("start", "end", "step", "expected"),
    [
        (
            "2026-01-30",
            "2026-02-02",
            "day",
            _dates("2026-01-30", "2026-01-31", "2026-02-01", "2026-02-02"),
        ),
        ("2026-01-01", "2026-01-20", "week", _dates("2026-01-01", "2026-01-08", "2026-01-15")),
        (
            "2026-01-31",
            "2026-04-30",
            "month",
            _dates("2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30"),
        ),
        ("2026-01-15", "2026-03-14", "month", _dates("2026-01-15", "2026-02-15")),
        ("2026-01-30", "2026-03-31", "month", _dates("2026-01-30", "2026-02-28", "2026-03-30")),
        ("2025-11-30", "2026-01-31", "month", _dates("2025-11-30", "2025-12-31", "2026-01-31")),
        ("2026-05-05", "2026-05-05", "week", _dates("2026-05-05")),
    ],
)
def test_backfill_dates_step_in_order(
    start: str, end: str, step: str, expected: list[dt.date]
) -> None:
    assert (
        job.backfill_dates(dt.date.fromisoformat(start), dt.date.fromisoformat(end), step)
        == expected
    )


def test_backfill_refuses_a_reversed_range() -> None:
    with pytest.raises(job.JobError, match="is before"):
        job.backfill_dates(dt.date(2026, 2, 1), dt.date(2026, 1, 1), "day")


def _refresh(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "refresh.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


def test_help_describes_the_job(tmp_path: Path) -> None:
    shown = _refresh("--help", cwd=tmp_path)
    assert shown.returncode == 0
    for option in [
        "--as-of-date",
        "--backfill FROM TO",
        "--step",
        "--rewind",
        "--full-refresh",
        "--max-source-age-days",
    ]:
        assert option in shown.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--as-of-date", "30/06/2026"], "not a date"),
        (
            ["--as-of-date", "2026-06-30", "--backfill", "2026-01-01", "2026-02-01"],
            "not allowed with",
        ),
        (["--backfill", "2026-03-01", "2026-02-01"], "is before"),
        (["--vars", "[1, 2]"], "must be a JSON object"),
        (["--vars", '{"as_of_date": "2026-01-01"}'], "must not set as_of_date"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(tmp_path: Path, args: list[str], message: str) -> None:
    refused = _refresh(*args, "--database", str(tmp_path / "w.duckdb"), cwd=tmp_path)
    assert refused.returncode == 2
    assert message in refused.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing was built


def test_latest_recorded_date_reads_the_size_history(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    assert job.latest_recorded_date(database) is None
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema marts")
    assert job.latest_recorded_date(database) is None  # a warehouse without history yet
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table marts.segment_size_history (as_of_date date)")
        connection.execute(
            "insert into marts.segment_size_history values ('2026-04-30'), ('2026-05-31')"
        )
    assert job.latest_recorded_date(database) == dt.date(2026, 5, 31)


def test_full_refresh_rebuilds_the_base_models_on_the_first_date_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--full-refresh reaches dbt for the first date of a backfill; later dates run
    incrementally on what it built."""
    commands: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess:
        commands.append(command)
        return subprocess.CompletedProcess(command, 1)  # a failed build stops the job

    monkeypatch.setattr(job.subprocess, "run", fake_run)
    settings = job.JobSettings(
        database=tmp_path / "w.duckdb",
        published=tmp_path / "published" / "p.duckdb",
        target_path=tmp_path / "target",
        full_refresh=True,
    )
    settings.target_path.mkdir()
    log = tmp_path / "run.log"
    job._run_dbt_build(settings, dt.date(2026, 6, 30), log)
    job._run_dbt_build(
        job.JobSettings(settings.database, settings.published, target_path=settings.target_path),
        dt.date(2026, 6, 30),
        log,
    )
    assert "--full-refresh" in commands[0]
    assert "--full-refresh" not in commands[1]

    seen: list[bool] = []
    monkeypatch.setattr(
        job, "refresh", lambda given, as_of_date: seen.append(given.full_refresh) or _success()
    )
    job.run_job(settings, [dt.date(2026, 4, 30), dt.date(2026, 5, 31), dt.date(2026, 6, 30)])
    assert seen == [True, False, False]


def _success() -> job.RunRecord:
    return job.RunRecord(run_id="r", as_of_date="2026-06-30", status="success", started_at="")
