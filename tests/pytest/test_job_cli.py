"""The scheduled job's command line and date logic, without dbt."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from segment_warehouse.paths import PROJECT_DIR
from segment_warehouse.pipeline import job, locks
from segment_warehouse.pipeline import runs as run_records


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
        [
            sys.executable,
            *["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"],
            *args,
        ],
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
        "--force",
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
    settings = job.JobSettings(
        database=tmp_path / "w.duckdb",
        published=tmp_path / "published" / "p.duckdb",
        target_path=tmp_path / "target",
        full_refresh=True,
    )
    assert "--full-refresh" in job._dbt_build_command(settings)
    incremental = job.JobSettings(settings.database, settings.published)
    assert "--full-refresh" not in job._dbt_build_command(incremental)

    seen: list[bool] = []
    monkeypatch.setattr(
        job,
        "refresh",
        lambda given, as_of_date, **_: seen.append(given.full_refresh) or _success(),
    )
    job.run_job(settings, [dt.date(2026, 4, 30), dt.date(2026, 5, 31), dt.date(2026, 6, 30)])
    assert seen == [True, False, False]


def _success() -> run_records.RunRecord:
    return run_records.RunRecord(
        run_id="r", as_of_date="2026-06-30", status="success", started_at=""
    )


# ---- exit codes ---------------------------------------------------------------------------


def test_help_lists_every_exit_code(tmp_path: Path) -> None:
    shown = _refresh("--help", cwd=tmp_path)
    assert shown.returncode == 0
    epilog = shown.stdout[shown.stdout.index("exit codes:") :]
    listed = {
        int(match.group(1)): match.group(2)
        for match in re.finditer(r"^\s+(\d+)\s+(.+)$", epilog, re.MULTILINE)
    }
    assert listed == job.EXIT_CODES
    assert set(listed) == {0, 1, 2, 3, 130, 143}
    assert "another refresh" in listed[3] and "SIGINT" in listed[130] and "SIGTERM" in listed[143]
    # the module docstring says the same
    documented = job.__doc__[job.__doc__.index("Exit codes") :]
    for code in listed:
        assert re.search(rf"\b{code}\b", documented), code


def test_every_status_is_documented() -> None:
    assert list(run_records.STATUSES) == [
        "running",
        "publishing",
        "success",
        "failed",
        "killed",
        "abandoned",
        "unchanged",
    ]
    for status in run_records.STATUSES:
        assert f"``{status}``" in job.__doc__, status


# ---- the refresh lock ---------------------------------------------------------------------


def test_the_refresh_lock_names_its_holder_and_refuses_a_second_one(tmp_path: Path) -> None:
    lock_path = locks.refresh_lock_path(tmp_path / "w.duckdb")
    assert lock_path == tmp_path / "w.duckdb.refresh.lock"
    with locks.RefreshLock(lock_path, {"started_at": "2026-06-30T02:30:00+00:00"}) as lock:
        lock.update(run_id="2026-06-29_x")
        holder = json.loads(lock_path.read_text())
        assert holder["pid"] == os.getpid() and holder["run_id"] == "2026-06-29_x"
        # a second open file description conflicts with the first, even in this process
        started = time.monotonic()
        with pytest.raises(job.RefreshLockedError) as refused:
            locks.RefreshLock(lock_path, {}).__enter__()
        assert time.monotonic() - started < 1
        message = str(refused.value)
        assert f"pid {os.getpid()}" in message and str(lock_path) in message
        assert "2026-06-30T02:30:00+00:00" in message and "\n" not in message
    assert lock_path.read_text() == ""  # released and emptied; the file stays
    with locks.RefreshLock(lock_path, {}):
        pass


HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from segment_warehouse.pipeline import locks
    with locks.RefreshLock(Path(sys.argv[1]), {"started_at": "then"}):
        print("locked", flush=True)
        time.sleep(600)
    """
)


def test_a_refresh_exits_3_while_another_process_holds_the_lock_and_runs_once_it_died(
    tmp_path: Path,
) -> None:
    database = tmp_path / "w.duckdb"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(locks.refresh_lock_path(database))],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        refused = _refresh("--database", str(database), "--as-of-date", "2026-06-30", cwd=tmp_path)
        assert time.monotonic() - started < 30
        assert refused.returncode == 3, refused.stderr
        assert refused.stderr.startswith("segment-warehouse refresh: another refresh is running: ")
        assert f"pid {holder.pid} " in refused.stderr and "Traceback" not in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        assert refused.stdout == ""
        assert not database.exists()  # nothing was done
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the lock of the killed holder
    with locks.RefreshLock(locks.refresh_lock_path(database), {}):
        pass


# ---- run records --------------------------------------------------------------------------


def _settings(tmp_path: Path) -> job.JobSettings:
    return job.JobSettings(
        database=tmp_path / "w.duckdb", published=tmp_path / "published" / "p.duckdb"
    )


def _statuses(database: Path) -> dict[str, tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute(
            "select run_id, status, pid, host, message, ended_at from ops.job_runs"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_runs_started_within_one_second_keep_their_order(tmp_path: Path) -> None:
    """The latest run is the last in started_at order, even when runs follow within a second."""
    settings = _settings(tmp_path)
    as_of = dt.date(2026, 6, 30)
    started = [run_records.new_record(settings, as_of) for _ in range(3)]
    for record in reversed(started):  # written out of order: the table must not rely on it
        run_records.record_run(settings, record, final=False)
    with duckdb.connect(str(settings.database), read_only=True) as connection:
        ordered = connection.execute(
            "select run_id from ops.job_runs order by started_at"
        ).fetchall()
    assert [row[0] for row in ordered] == [record.run_id for record in started]
    assert len({record.started_at for record in started}) == 3


def test_a_runs_table_of_an_older_version_gains_the_new_columns(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    with duckdb.connect(str(settings.database)) as connection:
        connection.execute("create schema ops")
        connection.execute(
            "create table ops.job_runs (run_id varchar primary key, as_of_date date,"
            " started_at timestamp, ended_at timestamp, status varchar, published boolean,"
            " message varchar, node_counts json, failed_nodes json, warned_tests json,"
            " row_counts json, log_file varchar)"
        )
        connection.execute(
            "insert into ops.job_runs values ('old', '2026-05-31', '2026-06-01 02:30:00',"
            " '2026-06-01 02:40:00', 'success', true, 'published', '{}', '[]', '[]', '{}', 'l')"
        )
    record = run_records.RunRecord(
        run_id="new", as_of_date="2026-06-30", started_at="2026-07-01T02:30:00+00:00"
    )
    record.pid, record.host = 4242, "batch-1"
    run_records.record_run(settings, record, final=False)
    assert _statuses(settings.database) == {
        "old": ("success", None, None, "published", dt.datetime(2026, 6, 1, 2, 40)),
        "new": ("running", 4242, "batch-1", "", None),
    }
    assert not settings.runs_log.exists()  # only finished runs are appended


def test_runs_left_running_or_publishing_are_marked_abandoned(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for run_id, status, pid in [
        ("a-success", "success", 11),
        ("b-running", "running", 12),
        ("c-publishing", "publishing", 13),
    ]:
        record = run_records.RunRecord(
            run_id=run_id,
            as_of_date="2026-06-30",
            started_at="2026-07-01T02:30:00+00:00",
            status=status,
            pid=pid,
            host="batch-1",
        )
        run_records.record_run(settings, record, final=False)

    abandoned = run_records.mark_abandoned(settings, found_by="d-new")
    assert [record.run_id for record in abandoned] == ["b-running", "c-publishing"]
    runs = _statuses(settings.database)
    assert runs["a-success"][0] == "success"
    for run_id, pid, was in [("b-running", 12, "running"), ("c-publishing", 13, "publishing")]:
        status, _, _, message, ended_at = runs[run_id]
        assert status == "abandoned" and ended_at is not None
        assert f"process {pid} on batch-1 stopped while {was}" in message
        assert "found by run d-new" in message
    logged = [json.loads(line) for line in settings.runs_log.read_text().splitlines()]
    assert [(entry["run_id"], entry["status"]) for entry in logged] == [
        ("b-running", "abandoned"),
        ("c-publishing", "abandoned"),
    ]
    assert logged[0]["started_at"] == "2026-07-01T02:30:00+00:00"
    assert run_records.mark_abandoned(settings, found_by="e-next") == []


def test_the_published_runs_show_this_run_as_it_reads_once_swapped(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    earlier = run_records.RunRecord(
        run_id="earlier", as_of_date="2026-05-31", started_at="2026-06-01T02:30:00+00:00"
    )
    run_records.finish_run(settings, earlier, "failed", "dbt build exited with 1", published=False)
    record = run_records.RunRecord(
        run_id="it's-this", as_of_date="2026-06-30", started_at="2026-07-01T02:30:00+00:00"
    )
    record.status = "publishing"
    run_records.record_run(settings, record, final=False)
    succeeded = run_records.RunRecord(
        **{
            **record.__dict__,
            "status": "success",
            "published": True,
            "ended_at": "2026-07-01T02:40:00+00:00",
            "message": "published 2 marts",
        }
    )
    relation = run_records.published_runs_relation(succeeded)
    with duckdb.connect(str(settings.database), read_only=True) as connection:
        shown = connection.execute(
            f"select run_id, status, published, ended_at, message from {relation} order by 1"
        ).fetchall()
    assert shown[0][:3] == ("earlier", "failed", False)
    assert shown[1] == (
        "it's-this",
        "success",
        True,
        dt.datetime(2026, 7, 1, 2, 40),
        "published 2 marts",
    )
    assert _statuses(settings.database)["it's-this"][0] == "publishing"


# ---- failure messages ---------------------------------------------------------------------


def _result(unique_id: str, status: str, message: str | None, **extra: object) -> dict:
    return {"unique_id": unique_id, "status": status, "message": message, **extra}


def test_a_failed_build_names_the_first_failed_node_and_its_own_message(tmp_path: Path) -> None:
    gate = (
        "Runtime Error in model stg_shop__orders (models/staging/shop/stg_shop__orders.sql)\n"
        "  Data-quality gate: source shop.orders (file orders_2026_06.csv): 31.5% of rows\n"
        "  quarantined (max 5%); reasons: unparseable ordered_at (812), unknown currency (4)\n"
        "  \n"
        "  > in macro quarantine_gate (macros/tests/quarantine_gate.sql)\n"
        "  > called by model stg_shop__orders\n"
    )
    results = tmp_path / "run_results.json"
    results.write_text(
        json.dumps(
            {
                "results": [
                    _result("model.p.stg_customers", "success", "OK"),
                    _result("model.p.stg_shop__orders", "error", gate),
                    _result("test.p.unique_x.abc123", "fail", "Got 2 results", failures=2),
                    _result("model.p.dim_customers", "skipped", None),
                    _result("test.p.drift.def456", "warn", "Got 1 result", failures=1),
                ]
            }
        )
    )
    counts, failed, warned = run_records.summarise_results(results)
    assert counts == {"error": 1, "fail": 1, "skipped": 1, "success": 1, "warn": 1}
    assert [node["node"] for node in failed] == ["stg_shop__orders", "unique_x"]
    assert warned == ["drift"]
    message = run_records.failure_message(1, failed, tmp_path / "w.duckdb", tmp_path / "run.log")
    assert message.startswith("dbt build exited with 1; not passed: stg_shop__orders, unique_x; ")
    assert (
        "stg_shop__orders: Runtime Error in model stg_shop__orders "
        "(models/staging/shop/stg_shop__orders.sql) Data-quality gate: source shop.orders "
        "(file orders_2026_06.csv): 31.5% of rows quarantined (max 5%); reasons: unparseable "
        "ordered_at (812), unknown currency (4)"
    ) in message
    assert "> in macro" not in message and "\n" not in message
    assert all("compiled_code" not in node for node in failed)


def test_node_messages_are_cut_to_a_readable_length() -> None:
    long = "Freshness: source web.web_sessions latest 2026-06-01 00:00:00; " * 40
    cut = run_records.node_message(long)
    assert len(cut) == run_records.MESSAGE_CHARS and cut.endswith("...")
    assert cut.startswith("Freshness: source web.web_sessions latest 2026-06-01 00:00:00;")
    assert run_records.node_message("  short\n\n  > in macro x\n") == "short"


def test_a_failed_test_shows_its_first_failing_rows(tmp_path: Path) -> None:
    database = tmp_path / "w.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "create table freshness as select * from (values"
            " ('shop', timestamp '2026-06-30 22:58:23', 'stale'),"
            " ('pos', timestamp '2026-07-30 10:00:00', 'fresh')) as t(source_name, latest, status)"
        )
    failed = [
        {
            "node": "no_stale_source",
            "status": "fail",
            "failures": 1,
            "message": "Got 1 result, configured to fail if != 0",
            "compiled_code": "select * from freshness where status = 'stale'",
        }
    ]
    message = run_records.failure_message(1, failed, database, tmp_path / "run.log")
    assert message.endswith(
        "no_stale_source: Got 1 result, configured to fail if != 0 - failing rows: "
        "source_name=shop, latest=2026-06-30 22:58:23, status=stale"
    )
    assert failed[0]["failing_rows"] == [
        {"source_name": "shop", "latest": "2026-06-30 22:58:23", "status": "stale"}
    ]
    assert "compiled_code" not in failed[0]


def test_a_build_that_fails_before_any_node_quotes_the_log(tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(
        "$ dbt build ...\n00:37:41  Running with dbt=1.11\n"
        "00:37:44  Encountered an error:\n"
        "Compilation Error in model m (models/m.sql)\n  var x must be a day, not 'year'.\n"
        "  \n  > in macro\n"
    )
    message = run_records.failure_message(2, [], tmp_path / "w.duckdb", log)
    assert message == (
        "dbt build exited with 2: Encountered an error: Compilation Error in model m "
        "(models/m.sql) var x must be a day, not 'year'."
    )


# ---- signals and processes ----------------------------------------------------------------

GROUP = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # needs SIGKILL, like a stuck dbt
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    print(child.pid, flush=True)
    time.sleep(600)
    """
)


def test_stop_process_group_ends_the_child_and_its_whole_group() -> None:
    leader = subprocess.Popen(
        [sys.executable, "-c", GROUP], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    grandchild = int(leader.stdout.readline())
    started = time.monotonic()
    assert locks.stop_process_group(leader, timeout_seconds=3)
    assert time.monotonic() - started < 10
    assert leader.returncode == -signal.SIGKILL
    with pytest.raises(ProcessLookupError):
        os.killpg(leader.pid, 0)
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)


STOPPED = textwrap.dedent(
    """
    import os, signal, time
    from segment_warehouse.pipeline import locks

    before = signal.getsignal(signal.SIGTERM)
    with locks.signals_stop_the_job():
        try:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # interrupted by the handler
            print("not stopped")
        except locks.JobStopped as stopped:
            print("stopped", stopped.exit_code, stopped.signal_name)
        os.kill(os.getpid(), signal.SIGINT)  # a second signal while stopping is ignored
        time.sleep(0.1)
        print("pending", locks.pending_stop().signal_name)
    print("restored", signal.getsignal(signal.SIGTERM) is before, locks.pending_stop())
    """
)


def test_signals_stop_the_job_raises_once_and_restores_the_handlers() -> None:
    shown = subprocess.run(
        [sys.executable, "-c", STOPPED], capture_output=True, text=True, check=False, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines() == [
        "stopped 143 SIGTERM",
        "pending SIGTERM",
        "restored True None",
    ]
