"""The scheduled refresh: one command that rebuilds the warehouse for a date and publishes it.

For each ``as_of_date`` the job runs ``dbt build`` (source freshness is a model with an
error-severity test, so stale sources fail the build), which also records the segment
history; then, only when every node passed (warnings allowed), it copies the public marts
into the published DuckDB file that BI tools read and swaps it in atomically, with the
Parquet copies (:mod:`segment_warehouse.publish`).

One refresh at a time: the job holds an exclusive OS lock (``flock``) on
``<database>.refresh.lock`` beside the warehouse, which names the holder (pid, host, start,
run). A second refresh exits at once with code 3; the kernel releases the lock when its
holder dies, however it dies.

Every run has a record in the warehouse table ``ops.job_runs``, written when it starts and
updated as it goes; its final state is also appended to ``job_runs.jsonl`` beside the
published file, and dbt's output goes to a log file per run. Statuses (:data:`STATUSES`):

- ``running``: the job is building (written before dbt starts);
- ``publishing``: the build passed and the marts are being copied and swapped in;
- ``success``: built, passed and published; the status turns ``success`` only once both
  swaps are done, and the published copy shows the run as ``success`` (the only copy that
  does is one that was swapped in);
- ``failed``: the build, a gate (a failed test, stale sources) or the publish failed; the
  message names the first failed node and its own message;
- ``killed``: stopped by SIGINT or SIGTERM (named in the message);
- ``abandoned``: the process died without recording an outcome (SIGKILL, a crash, power
  loss); the next run marks any ``running`` or ``publishing`` record so once it holds the
  lock, since no other job can be running then.

Signals: dbt runs in its own session, so a terminal's Ctrl-C reaches the job only. On
SIGINT or SIGTERM the job terminates dbt's process group (SIGTERM, then SIGKILL after
:data:`DBT_STOP_TIMEOUT_SECONDS`), records the run ``killed`` and exits with 130 or 143. A
signal during the publish aborts it: the new files are removed, the previous publication
stays byte for byte. A signal during the swap itself (renames, milliseconds) is held until
the swap is done and the run recorded ``success``; the job then exits with 130 or 143
before any next date. On Linux dbt also dies with the job when the job is killed with
SIGKILL.

Exit codes (:data:`EXIT_CODES`): 0 every date built, passed and was published; 1 a build,
a gate or the publish failed (the previous publication stays in place); 2 invalid
arguments; 3 another refresh of the warehouse is running; 130 stopped by SIGINT; 143
stopped by SIGTERM.
"""

from __future__ import annotations

import argparse
import calendar
import ctypes
import datetime as dt
import fcntl
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import FrameType
from typing import Any

import duckdb

from segment_warehouse import publish
from segment_warehouse.dbt_runner import PROJECT_DIR, dbt_command

DEFAULT_DATABASE = "warehouse/segment_warehouse.duckdb"
DEFAULT_PUBLISHED = "warehouse/published/segment_warehouse.duckdb"
RUNS_TABLE = "ops.job_runs"
FAILING_STATUSES = {"error", "fail", "runtime error"}

STATUSES = {
    "running": "the job is building the warehouse (dbt build)",
    "publishing": "the build passed; the public marts are being copied and swapped in",
    "success": "built, passed and published: the published copy holds this run",
    "failed": "the build, a gate or the publish failed; the previous publication stays",
    "killed": "stopped by SIGINT or SIGTERM; the previous publication stays",
    "abandoned": "the process died without recording an outcome; marked by a later run",
}
"""Every status a run record can have, and what it means."""
UNFINISHED_STATUSES = ("running", "publishing")
"""Statuses of a run that has not ended; one left behind belongs to a process that died."""

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_CODES = {
    EXIT_SUCCESS: "success: every date built, passed and was published",
    EXIT_FAILED: "a build, a gate or the publish failed (the previous publication is kept)",
    EXIT_USAGE: "invalid arguments",
    EXIT_LOCKED: "another refresh of this warehouse is running (nothing was done)",
    128 + signal.SIGINT: "stopped by SIGINT (Ctrl-C): dbt stopped, run recorded killed",
    128 + signal.SIGTERM: "stopped by SIGTERM: dbt stopped, run recorded killed",
}
"""Exit code -> meaning; ``--help`` lists them."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop the job cleanly (exit code 128 + the signal number)."""
DBT_STOP_TIMEOUT_SECONDS = 10.0
"""How long dbt gets to exit after SIGTERM, and again after SIGKILL."""
MESSAGE_CHARS = 1500
"""A failed node's message is cut to this many characters in the run's message."""
_FAILING_ROWS_SHOWN = 3
_LOCK_READ_SECONDS = 1.0


class JobError(RuntimeError):
    """The job cannot start: a bad argument or a state it refuses to overwrite."""


class RefreshLockedError(RuntimeError):
    """Another refresh holds the warehouse's refresh lock."""


class JobStopped(BaseException):
    """SIGINT or SIGTERM asked the job to stop.

    A BaseException, like KeyboardInterrupt, so that ``except Exception`` does not swallow
    it. ``records`` holds the records of the dates run so far, the stopped one last.
    """

    def __init__(self, signum: int) -> None:
        """Remember which signal stopped the job."""
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        self.records: list[RunRecord] = []
        super().__init__(f"stopped by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process a signal ended."""
        return 128 + self.signum


@dataclass
class RunRecord:
    """What one refresh did; written to ops.job_runs and job_runs.jsonl."""

    run_id: str
    as_of_date: str
    started_at: str
    ended_at: str | None = None
    status: str = "running"
    published: bool = False
    message: str = ""
    node_counts: dict[str, int] = field(default_factory=dict)
    failed_nodes: list[dict[str, Any]] = field(default_factory=list)
    warned_tests: list[str] = field(default_factory=list)
    row_counts: dict[str, int] = field(default_factory=dict)
    log_file: str = ""
    pid: int | None = None
    """The job's process id."""
    host: str = ""
    """The machine the job ran on."""


@dataclass(frozen=True)
class JobSettings:
    """Where the job reads and writes, and how dbt is called."""

    database: Path
    published: Path
    target: str = "dev"
    target_path: Path = PROJECT_DIR / "target"
    max_source_age_days: int | None = 3
    extra_vars: dict[str, Any] = field(default_factory=dict)
    allow_rewind: bool = False
    full_refresh: bool = False
    parquet_dir: Path | None = None
    """Where Parquet copies of the published marts go (a link publish manages); None: none."""
    include_pii: bool = False
    """Publish the columns tagged ``meta: {pii: true}`` too."""

    @property
    def log_dir(self) -> Path:
        """Run logs live beside the published file."""
        return self.published.parent / "logs"

    @property
    def runs_log(self) -> Path:
        """The run records as JSON lines, one per finished run, beside the published file."""
        return self.published.parent / "job_runs.jsonl"

    @property
    def lock_path(self) -> Path:
        """The refresh lock file, beside the warehouse."""
        return refresh_lock_path(self.database)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


# ---- one refresh at a time ----------------------------------------------------------------


def refresh_lock_path(database: Path) -> Path:
    """Return the lock file of the refreshes of ``database``: ``<database>.refresh.lock``."""
    database = Path(database)
    return database.with_name(database.name + ".refresh.lock")


class RefreshLock:
    """An exclusive, non-blocking ``flock`` on the refresh lock file, naming its holder.

    The file holds JSON (pid, host, start, database, dates, the current run) for whoever
    finds it locked. It is never deleted (two jobs could otherwise lock two different
    files); it is emptied on release. The kernel releases the lock when the holder's
    process ends, whatever ends it, so a crashed job never blocks the next one. The file
    descriptor is not inherited by dbt.
    """

    def __init__(self, path: Path, holder: dict[str, Any]) -> None:
        """Prepare to lock ``path``; ``holder`` describes this job (pid and host added)."""
        self.path = Path(path)
        self.holder = {"pid": os.getpid(), "host": socket.gethostname(), **holder}
        self._descriptor: int | None = None

    def __enter__(self) -> RefreshLock:
        """Take the lock or raise RefreshLockedError naming the job that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + _LOCK_READ_SECONDS
        try:
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    holder = _live_holder(self.path)
                    if holder is not None or time.monotonic() > deadline:
                        raise RefreshLockedError(_locked_message(self.path, holder)) from None
                    # the holder has just taken the lock and not yet written itself in,
                    # or is releasing it: look again
                    time.sleep(0.05)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor
        self._write()
        return self

    def update(self, **fields: Any) -> None:
        """Record more about the holder, e.g. the run it is on now."""
        self.holder.update(fields)
        if self._descriptor is not None:
            self._write()

    def __exit__(self, *_: object) -> None:
        """Empty the file and release the lock."""
        if self._descriptor is None:
            return
        try:
            os.ftruncate(self._descriptor, 0)
        finally:
            os.close(self._descriptor)
            self._descriptor = None

    def _write(self) -> None:
        # written over the old text, then cut to length: a reader never sees it empty
        data = (json.dumps(self.holder, sort_keys=True) + "\n").encode()
        os.pwrite(self._descriptor, data, 0)
        os.ftruncate(self._descriptor, len(data))


def _live_holder(path: Path) -> dict[str, Any] | None:
    """Read the holder the lock file names; None unless complete and (on this host) alive."""
    try:
        holder = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(holder, dict) or not isinstance(holder.get("pid"), int):
        return None
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return None  # a holder that died; the one that took over has not written yet
        except PermissionError:
            pass
    return holder


def _locked_message(path: Path, holder: dict[str, Any] | None) -> str:
    if holder is None:
        return f"another refresh is running (lock file {path}; it has not named itself yet)"
    run = f", run {holder['run_id']}" if holder.get("run_id") else ""
    return _one_line(
        f"another refresh is running: pid {holder['pid']} on {holder.get('host', '?')}, "
        f"started {holder.get('started_at', '?')}{run} (lock file {path})"
    )


# ---- signals ------------------------------------------------------------------------------


@contextmanager
def signals_stop_the_job() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into JobStopped while the block runs (main thread only).

    The first signal raises; later ones are ignored, so that the cleanup the first one
    started (stopping dbt, recording the run) runs to its end. The previous handlers are
    restored afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, _frame: FrameType | None) -> None:
        if _received_signals:
            return
        _received_signals.append(signum)
        raise JobStopped(signum)

    _received_signals.clear()
    previous = {signum: signal.signal(signum, stop) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        _received_signals.clear()


_received_signals: list[int] = []
"""The stop signal received while :func:`signals_stop_the_job` runs (at most one)."""


def _pending_stop() -> JobStopped | None:
    """Return the stop a signal asked for, if any, even when its exception was lost.

    DuckDB checks for signals while it runs a query and turns the handler's exception into
    its own ("Query interrupted"); the job still has to stop, and say why.
    """
    return JobStopped(_received_signals[0]) if _received_signals else None


# ---- dates --------------------------------------------------------------------------------


def backfill_dates(start: dt.date, end: dt.date, step: str) -> list[dt.date]:
    """List the dates a backfill replays, in order: ``start``, then every ``step`` to ``end``.

    ``step`` is day, week (7 days) or month (the same day of each month, the last day
    when the month is shorter; month ends stay month ends).

    Raises:
        JobError: ``end`` is before ``start``, or ``step`` is unknown.

    """
    if end < start:
        raise JobError(f"--backfill: {end} is before {start}")
    if step not in {"day", "week", "month"}:
        raise JobError(f"--step must be day, week or month; got {step!r}")
    if step in {"day", "week"}:
        days = 1 if step == "day" else 7
        return [
            start + dt.timedelta(days=offset) for offset in range(0, (end - start).days + 1, days)
        ]
    month_end = start.day == calendar.monthrange(start.year, start.month)[1]
    dates: list[dt.date] = []
    year, month = start.year, start.month
    while True:
        last_day = calendar.monthrange(year, month)[1]
        day = last_day if month_end else min(start.day, last_day)
        candidate = dt.date(year, month, day)
        if candidate > end:
            return dates
        dates.append(candidate)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def latest_recorded_date(database: Path) -> dt.date | None:
    """Return the latest as_of_date in the segment history of ``database`` (None before any)."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as connection:
        tables = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'marts' and table_name = 'segment_size_history'"
        ).fetchall()
        if tables[0][0] == 0:
            return None
        rows = connection.execute(
            "select max(as_of_date) from marts.segment_size_history"
        ).fetchall()
    return rows[0][0]


# ---- dbt ----------------------------------------------------------------------------------


def _summarise_results(
    results_file: Path,
) -> tuple[dict[str, int], list[dict[str, Any]], list[str]]:
    """Count nodes per status; list the nodes that did not pass and the tests that warned.

    The failed nodes keep dbt's order, each with its own message on one line (dbt's call
    stack lines left out) and, for tests, the compiled SQL that finds the failing rows.
    """
    if not results_file.exists():
        return {}, [], []
    counts: dict[str, int] = {}
    failed: list[dict[str, Any]] = []
    warned: list[str] = []
    for result in json.loads(results_file.read_text())["results"]:
        status = result["status"]
        counts[status] = counts.get(status, 0) + 1
        name = result["unique_id"].split(".")[2]  # tests' ids end in a hash
        if status == "warn":
            warned.append(name)
        elif status in FAILING_STATUSES:  # skipped nodes are counted, not listed
            failed.append(
                {
                    "node": name,
                    "status": status,
                    "failures": result.get("failures"),
                    "message": node_message(result.get("message") or "", limit=1000),
                    **(
                        {"compiled_code": result["compiled_code"]}
                        if status == "fail" and result.get("compiled_code")
                        else {}
                    ),
                }
            )
    return dict(sorted(counts.items())), failed, sorted(warned)


def node_message(text: str, *, limit: int = MESSAGE_CHARS) -> str:
    """Put a dbt node's message on one line, cut to ``limit`` characters.

    Its lines are joined, dbt's ``> in macro`` call stack left out, whitespace collapsed;
    a longer message ends in ``...``.
    """
    lines = [line.strip() for line in text.splitlines()]
    joined = " ".join(line for line in lines if line and not line.startswith(">"))
    joined = " ".join(joined.split())
    return joined if len(joined) <= limit else joined[: limit - 3].rstrip() + "..."


def _failing_rows(database: Path, compiled_code: str) -> list[dict[str, str]]:
    """Re-read the first rows a failed test found from the warehouse (none when unreadable).

    dbt reports only how many rows failed a test; the rows say which source, table or
    customer (e.g. the stale source and its latest event).
    """
    query = compiled_code.strip().rstrip(";")
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            cursor = connection.execute(
                f"select * from ({query}) as failing limit {_FAILING_ROWS_SHOWN}"
            )
            columns = [column[0] for column in cursor.description]
            rows = cursor.fetchall()
    except duckdb.Error:
        return []
    return [
        {
            column: str(value)
            for column, value in zip(columns, row, strict=True)
            if value is not None
        }
        for row in rows
    ]


def _log_excerpt(log_file: Path) -> str:
    """Find dbt's last error lines in a run's log (for a build that failed before any node)."""
    try:
        lines = [line.strip() for line in log_file.read_text().splitlines() if line.strip()]
    except OSError:
        return ""
    tail = [re.sub(r"^\d\d:\d\d:\d\d\s+", "", line) for line in lines[-20:]]
    for number, line in enumerate(tail):
        if "error" in line.lower():
            return node_message("\n".join(tail[number:]))
    return node_message(tail[-1]) if tail else ""


def _failure_message(
    return_code: int, failed_nodes: list[dict[str, Any]], database: Path, log_file: Path
) -> str:
    """Say why a build failed.

    The message lists the nodes that did not pass, then the first one's own message (for a
    test, with the first failing rows).
    """
    message = f"dbt build exited with {return_code}"
    if not failed_nodes:
        excerpt = _log_excerpt(log_file)
        return message + (f": {excerpt}" if excerpt else "")
    names = ", ".join(node["node"] for node in failed_nodes[:10])
    more = f" and {len(failed_nodes) - 10} more" if len(failed_nodes) > 10 else ""
    first = failed_nodes[0]
    detail = node_message(first["message"]) or first["status"]
    if first.get("compiled_code"):
        rows = _failing_rows(database, first["compiled_code"])
        if rows:
            first["failing_rows"] = rows
            shown = "; ".join(
                ", ".join(f"{column}={value}" for column, value in row.items()) for row in rows
            )
            detail += " - failing rows: " + node_message(shown)
    for node in failed_nodes:  # the SQL stays in dbt's target directory, not in the record
        node.pop("compiled_code", None)
    return f"{message}; not passed: {names}{more}; {first['node']}: {detail}"


def _dbt_build_command(settings: JobSettings, as_of_date: dt.date) -> list[str]:
    """Return the dbt build command line of one date."""
    variables = {**settings.extra_vars, "as_of_date": as_of_date.isoformat()}
    if settings.max_source_age_days is not None:
        variables["source_max_age_days"] = settings.max_source_age_days
    # unit tests check SQL logic on fixed inputs: they run in CI, not in every refresh
    # --full-refresh re-parses every raw row in the incremental base models; the history
    # models are never rebuilt (full_refresh: false)
    full_refresh = ["--full-refresh"] if settings.full_refresh else []
    return dbt_command(
        ["build", "--exclude-resource-type", "unit_test", *full_refresh],
        target=settings.target,
        target_path=settings.target_path,
        variables=variables,
    )


def _run_dbt_build(settings: JobSettings, as_of_date: dt.date, log_file: Path) -> int:
    """Run dbt build for ``as_of_date`` with its output in ``log_file``; return the exit code.

    dbt runs in its own session and process group. When the job is stopped (JobStopped,
    or any other exception) while dbt runs, dbt's group is terminated before it propagates.
    """
    command = _dbt_build_command(settings, as_of_date)
    env = {**os.environ, "DBT_USE_COLORS": "false"}
    env["SEGMENT_WAREHOUSE_TEST_DB" if settings.target == "test" else "SEGMENT_WAREHOUSE_DB"] = str(
        settings.database
    )
    (settings.target_path / "run_results.json").unlink(missing_ok=True)
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        process = None
        try:
            # held while dbt starts, so that a signal cannot leave a dbt the job does not know
            with publish.signals_held():
                process = subprocess.Popen(
                    command,
                    cwd=PROJECT_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # run between fork and exec; safe here: no DuckDB connection is open
                    preexec_fn=_child_setup(os.getpid()),
                )
            return process.wait()
        except BaseException:
            if process is not None:
                stop_process_group(process)
            raise


_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None


def _child_setup(parent_pid: int) -> Callable[[], None]:
    """Return what the dbt child runs between fork and exec.

    It takes SIGHUP, SIGINT and SIGTERM again (default handling, not held) and, on Linux,
    asks to be killed when the job dies, even by SIGKILL.
    """

    def setup() -> None:
        for signum in publish.HELD_SIGNALS:
            signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, publish.HELD_SIGNALS)
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() != parent_pid:  # the job died before prctl took effect
                os.kill(os.getpid(), signal.SIGKILL)

    return setup


def stop_process_group(
    process: subprocess.Popen[Any], timeout_seconds: float = DBT_STOP_TIMEOUT_SECONDS
) -> bool:
    """Stop a child that leads its own process group, and everything in that group.

    Sends SIGTERM to the group, waits up to ``timeout_seconds`` for the child to exit and
    the group to empty, then SIGKILL and the same wait. Returns whether the group is gone.
    """
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        if _wait_for_group(process, timeout_seconds):
            return True
    return False


def _wait_for_group(process: subprocess.Popen[Any], timeout_seconds: float) -> bool:
    deadline = time.monotonic() + timeout_seconds
    while True:
        if process.poll() is not None:  # the leader has exited and is reaped
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def _mart_row_counts(database: Path, relations: dict[str, str]) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            name: connection.execute(f"select count(*) from {relation}").fetchall()[0][0]
            for name, relation in relations.items()
        }


# ---- run records --------------------------------------------------------------------------

_RUNS_COLUMNS = (
    ("run_id", "varchar primary key"),
    ("as_of_date", "date"),
    ("started_at", "timestamp"),
    ("ended_at", "timestamp"),
    ("status", "varchar"),
    ("published", "boolean"),
    ("message", "varchar"),
    ("node_counts", "json"),
    ("failed_nodes", "json"),
    ("warned_tests", "json"),
    ("row_counts", "json"),
    ("log_file", "varchar"),
    # added after the first version: older warehouses get them with alter table
    ("pid", "integer"),
    ("host", "varchar"),
)
_JSON_FIELDS = ("node_counts", "failed_nodes", "warned_tests", "row_counts")


def _ensure_runs_table(connection: duckdb.DuckDBPyConnection) -> None:
    """Create ops.job_runs, or add the columns that a table of an older version lacks."""
    connection.execute("create schema if not exists ops")
    columns = ", ".join(f"{name} {kind}" for name, kind in _RUNS_COLUMNS)
    connection.execute(f"create table if not exists {RUNS_TABLE} ({columns})")
    for name, kind in _RUNS_COLUMNS[1:]:
        connection.execute(f"alter table {RUNS_TABLE} add column if not exists {name} {kind}")


def _write_record(database: Path, record: RunRecord) -> None:
    """Insert or replace the record's row in ops.job_runs (creating the warehouse file)."""
    row = asdict(record)
    for key in _JSON_FIELDS:
        row[key] = json.dumps(row[key], sort_keys=True)
    with duckdb.connect(str(database)) as connection:
        _ensure_runs_table(connection)
        connection.execute("begin transaction")
        connection.execute(f"delete from {RUNS_TABLE} where run_id = ?", [record.run_id])
        connection.execute(
            f"insert into {RUNS_TABLE} ({', '.join(row)}) values ({', '.join('?' for _ in row)})",
            list(row.values()),
        )
        connection.execute("commit")


def _record(settings: JobSettings, record: RunRecord, *, final: bool = True) -> None:
    """Write the run record to ops.job_runs and, when ``final``, append it to job_runs.jsonl.

    A record that is not final must reach the warehouse (an error propagates). A final one
    is appended to job_runs.jsonl first; when the warehouse cannot take it (e.g. locked by
    another process) the job says so on stderr and carries on.
    """
    if not final:
        _write_record(settings.database, record)
        return
    settings.runs_log.parent.mkdir(parents=True, exist_ok=True)
    with settings.runs_log.open("a") as runs_log:
        runs_log.write(json.dumps(asdict(record), sort_keys=True) + "\n")
    try:
        _write_record(settings.database, record)
    except duckdb.Error as error:
        print(
            f"refresh.py: warning: run {record.run_id} ({record.status}) is in "
            f"{settings.runs_log} but not in {RUNS_TABLE}: {_one_line(error)}",
            file=sys.stderr,
            flush=True,
        )


def _finish(
    settings: JobSettings, record: RunRecord, status: str, message: str, *, published: bool
) -> None:
    """Give the record its outcome and write it, with signals held so that it is whole."""
    with publish.signals_held():
        record.status = status
        record.published = published
        record.message = message
        record.ended_at = _utc_now().isoformat()
        _record(settings, record)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _read_records(
    connection: duckdb.DuckDBPyConnection, where: str, parameters: Sequence[object] = ()
) -> list[RunRecord]:
    names = [name for name, _ in _RUNS_COLUMNS]
    rows = connection.execute(
        f"select {', '.join(names)} from {RUNS_TABLE} where {where} order by started_at",
        list(parameters),
    ).fetchall()
    records = []
    for row in rows:
        values = dict(zip(names, row, strict=True))
        for key in _JSON_FIELDS:
            values[key] = json.loads(values[key]) if values[key] is not None else None
        records.append(
            RunRecord(
                run_id=values["run_id"],
                as_of_date=_as_text(values["as_of_date"]) or "",
                started_at=_as_text(values["started_at"]) or "",
                ended_at=_as_text(values["ended_at"]),
                status=values["status"] or "",
                published=bool(values["published"]),
                message=values["message"] or "",
                node_counts=values["node_counts"] or {},
                failed_nodes=values["failed_nodes"] or [],
                warned_tests=values["warned_tests"] or [],
                row_counts=values["row_counts"] or {},
                log_file=values["log_file"] or "",
                pid=values["pid"],
                host=values["host"] or "",
            )
        )
    return records


def mark_abandoned(settings: JobSettings, *, found_by: str) -> list[RunRecord]:
    """Mark the runs left ``running`` or ``publishing`` as ``abandoned``; return them.

    Call it only while holding the refresh lock: then no other job is running, so such a
    run's process died without recording an outcome (SIGKILL, a crash, power loss). Each
    gets ``ended_at`` now, a message naming its pid and host and the run ``found_by`` that
    found it, a line in job_runs.jsonl (it never wrote one) and, when the published copy
    holds it (it died right after the swap), ``published`` true.
    """
    if not settings.database.exists():
        return []
    with duckdb.connect(str(settings.database)) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = 'job_runs'"
        ).fetchall()[0][0]
        if not exists:
            return []
        _ensure_runs_table(connection)
        placeholders = ", ".join("?" for _ in UNFINISHED_STATUSES)
        left = _read_records(
            connection,
            f"status in ({placeholders}) and run_id <> ?",
            [*UNFINISHED_STATUSES, found_by],
        )
    if not left:
        return []
    published_run = _published_run_id(settings.published)
    for record in left:
        process = f"process {record.pid or '(pid not recorded)'} on {record.host or '(host?)'}"
        record.message = (
            f"{process} stopped while {record.status} without recording an outcome "
            f"(killed or crashed); found by run {found_by}"
        )
        record.published = published_run == record.run_id
        if record.published:
            record.message += "; the published copy holds this run (it died after the swap)"
        record.status = "abandoned"
        record.ended_at = _utc_now().isoformat()
        _record(settings, record)
    return left


def _published_run_id(published: Path) -> str | None:
    try:
        publication = publish.read_publication(published)
    except publish.PublishError:
        return None
    return publication.run_id if publication is not None else None


def _published_runs_relation(succeeded: RunRecord) -> str:
    """Return ops.job_runs as the published copy shows it.

    This run's row reads as it will once the swap is done (success), while the warehouse
    says ``publishing`` until then: only a copy that is swapped in shows the run succeeded.
    """
    run_id = publish.quote_literal(succeeded.run_id)
    values = {
        "status": publish.quote_literal(succeeded.status),
        "published": "true" if succeeded.published else "false",
        "ended_at": f"cast({publish.quote_literal(succeeded.ended_at or '')} as timestamp)",
        "message": publish.quote_literal(succeeded.message),
    }
    replaced = ", ".join(
        f"case when run_id = {run_id} then {value} else {column} end as {column}"
        for column, value in values.items()
    )
    return f"(select * replace ({replaced}) from {RUNS_TABLE})"


# ---- the job ------------------------------------------------------------------------------


def _new_record(settings: JobSettings, as_of_date: dt.date) -> RunRecord:
    started = _utc_now()
    run_id = f"{as_of_date.isoformat()}_{started.strftime('%Y%m%dT%H%M%SZ')}_{uuid.uuid4().hex[:6]}"
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    return RunRecord(
        run_id=run_id,
        as_of_date=as_of_date.isoformat(),
        started_at=started.isoformat(),
        log_file=str(settings.log_dir / f"{run_id}.log"),
        pid=os.getpid(),
        host=socket.gethostname(),
    )


def _print_record(record: RunRecord) -> None:
    print(
        f"{record.as_of_date}: {record.status} - {record.message} (log: {record.log_file})",
        flush=True,
    )


def refresh(
    settings: JobSettings, as_of_date: dt.date, *, lock: RefreshLock | None = None
) -> RunRecord:
    """Build, record and (when green) publish the warehouse for one ``as_of_date``.

    The caller holds the refresh lock (``lock``, updated with this run). The record is
    written ``running`` before dbt starts, ``publishing`` before the copy and ``success``
    only once both swaps are done; a failure records ``failed`` with its reason.

    Raises:
        JobStopped: SIGINT or SIGTERM arrived (see :func:`signals_stop_the_job`); dbt was
            stopped and the run recorded ``killed``, or, when the signal came during the
            swap, recorded ``success``. The record is the last of ``records``.

    """
    record = _new_record(settings, as_of_date)
    if lock is not None:
        lock.update(run_id=record.run_id, as_of_date=record.as_of_date)
    try:
        for abandoned in mark_abandoned(settings, found_by=record.run_id):
            _print_record(abandoned)
        _record(settings, record, final=False)
        return_code = _run_dbt_build(settings, as_of_date, Path(record.log_file))
        record.node_counts, record.failed_nodes, record.warned_tests = _summarise_results(
            settings.target_path / "run_results.json"
        )
        if return_code != 0 or record.failed_nodes:
            message = _failure_message(
                return_code, record.failed_nodes, settings.database, Path(record.log_file)
            )
            _finish(settings, record, "failed", message, published=False)
        else:
            _publish(settings, record, as_of_date)
    except BaseException as error:
        stop = error if isinstance(error, JobStopped) else _pending_stop()
        if stop is None:
            if not isinstance(error, Exception):
                raise
            # recorded, then reported by the exit code
            step = "publish failed: " if record.status == "publishing" else ""
            message = f"{step}{type(error).__name__}: {node_message(str(error))}"
            _finish(settings, record, "failed", message, published=False)
            return record
        if record.status in UNFINISHED_STATUSES:
            step = "the dbt build (dbt stopped)" if record.status == "running" else "the publish"
            message = (
                f"stopped by {stop.signal_name} during {step}; the previous publication "
                "stays in place"
            )
            _finish(settings, record, "killed", message, published=False)
        # else the outcome was recorded before the signal was handled
        stop.records.append(record)
        if stop is error:
            raise
        raise stop from error
    return record


def _publish(settings: JobSettings, record: RunRecord, as_of_date: dt.date) -> None:
    """Publish a green build; the record turns ``success`` as the swap completes."""
    relations = publish.public_models(
        settings.target_path / "manifest.json", include_pii=settings.include_pii
    )
    record.row_counts = _mart_row_counts(settings.database, relations)
    record.status = "publishing"
    _record(settings, record, final=False)
    succeeded = replace(
        record,
        status="success",
        published=True,
        ended_at=_utc_now().isoformat(),
        message=f"published {len(relations)} marts to {settings.published}"
        + (f" and {settings.parquet_dir}" if settings.parquet_dir else ""),
    )

    def swapped(_: publish.Publication) -> None:
        # signals are held: nothing falls between the swap and this record
        record.status, record.published, record.message = "success", True, succeeded.message
        record.ended_at = _utc_now().isoformat()
        _record(settings, record)

    publish.publish(
        settings.database,
        {**relations, "job_runs": _published_runs_relation(succeeded)},
        settings.published,
        run_id=record.run_id,
        as_of_date=as_of_date,
        parquet_dir=settings.parquet_dir,
        after_swap=swapped,
    )


def run_job(settings: JobSettings, dates: Sequence[dt.date]) -> list[RunRecord]:
    """Refresh each date in order, stopping at the first that fails.

    Holds the refresh lock throughout, and turns SIGINT and SIGTERM into a clean stop. With
    ``full_refresh`` the first date rebuilds the incremental base models from the raw
    files; the dates after it run incrementally.

    Raises:
        RefreshLockedError: another refresh of the warehouse is running.
        JobError: the first date is before the latest recorded run and rewinding the
            history was not allowed (``allow_rewind``, or a backfill).
        JobStopped: SIGINT or SIGTERM stopped the job; its ``records`` are the dates run.

    """
    holder = {
        "started_at": _utc_now().isoformat(),
        "database": str(settings.database),
        "dates": f"{dates[0].isoformat()} to {dates[-1].isoformat()} ({len(dates)})",
    }
    records: list[RunRecord] = []
    try:
        with signals_stop_the_job(), RefreshLock(settings.lock_path, holder) as lock:
            try:
                _run_dates(settings, dates, lock, records)
            except Exception as error:
                stop = _pending_stop()
                if stop is None:
                    raise
                raise stop from error
    except JobStopped as stop:
        for record in stop.records:
            _print_record(record)
        stop.records = records + stop.records
        raise
    return records


def _run_dates(
    settings: JobSettings, dates: Sequence[dt.date], lock: RefreshLock, records: list[RunRecord]
) -> None:
    """Run the dates of :func:`run_job` under its lock, appending each record to ``records``."""
    latest = latest_recorded_date(settings.database)
    if latest is not None and dates[0] < latest and not settings.allow_rewind:
        raise JobError(
            f"{dates[0]} is before the latest recorded run ({latest}) of "
            f"{settings.database}: running it would replay the segment history "
            "from that date. Pass --rewind to do so, or --backfill FROM TO to replay "
            "a range."
        )
    publish.remove_stale_files(settings.published, settings.parquet_dir)
    for number, as_of_date in enumerate(dates):
        record = refresh(
            settings if number == 0 else replace(settings, full_refresh=False),
            as_of_date,
            lock=lock,
        )
        records.append(record)
        _print_record(record)
        stop = _pending_stop()
        if stop is not None:
            raise stop
        if record.status != "success":
            return


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _resolve(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate


def _exit_codes_epilog() -> str:
    width = max(len(str(code)) for code in EXIT_CODES)
    lines = [f"  {code:>{width}}  {meaning}" for code, meaning in EXIT_CODES.items()]
    return "exit codes:\n" + "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    """Define the command line of scripts/refresh.py."""
    parser = argparse.ArgumentParser(
        prog="refresh.py",
        description=(
            "Scheduled refresh: dbt build for an as_of_date (source freshness checked), "
            "segment history recorded, public marts published atomically for BI, and a run "
            "record written to ops.job_runs and job_runs.jsonl (running, publishing, "
            "success, failed, killed or abandoned). One refresh of a warehouse at a time "
            "(lock file <database>.refresh.lock). Exit code 0 only when everything passed."
        ),
        epilog=_exit_codes_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    when = parser.add_mutually_exclusive_group()
    when.add_argument(
        "--as-of-date",
        type=_parse_date,
        help="date to compute the segments as of (default: today, UTC)",
    )
    when.add_argument(
        "--backfill",
        nargs=2,
        type=_parse_date,
        metavar=("FROM", "TO"),
        help="replay every --step from FROM to TO, in order, stopping at the first failure",
    )
    parser.add_argument(
        "--step",
        choices=["day", "week", "month"],
        default="day",
        help="backfill step (default day)",
    )
    parser.add_argument(
        "--rewind",
        action="store_true",
        help="allow an --as-of-date before the latest recorded run (replays the history from it)",
    )
    parser.add_argument(
        "--full-refresh",
        action="store_true",
        help=(
            "re-parse every raw row in the incremental base models (orders, order lines, web "
            "sessions) instead of the new and changed ones; the segment history is kept"
        ),
    )
    parser.add_argument(
        "--max-source-age-days",
        type=int,
        default=3,
        help=(
            "fail when the latest order, store transaction or web session is older than "
            "this many days (default 3; -1: no check)"
        ),
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("SEGMENT_WAREHOUSE_DB", DEFAULT_DATABASE),
        help=f"warehouse file dbt writes (default $SEGMENT_WAREHOUSE_DB or {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--published",
        default=os.environ.get("SEGMENT_WAREHOUSE_PUBLISHED_DB", DEFAULT_PUBLISHED),
        help=f"file BI tools read (default $SEGMENT_WAREHOUSE_PUBLISHED_DB or {DEFAULT_PUBLISHED})",
    )
    parser.add_argument(
        "--parquet-dir",
        default=None,
        help=(
            "where Parquet copies of the published marts go, a symbolic link swapped "
            "atomically (default: parquet beside the published file)"
        ),
    )
    parser.add_argument(
        "--no-parquet", action="store_true", help="publish the DuckDB file only, no Parquet"
    )
    parser.add_argument(
        "--include-pii",
        action="store_true",
        help="publish the columns tagged pii (names, email, phone, ...) too; left out by default",
    )
    parser.add_argument("--target", default="dev", help="dbt target (default dev)")
    parser.add_argument("--target-path", default="target", help="dbt target path (default target)")
    parser.add_argument(
        "--vars", default="{}", help="extra dbt vars as JSON, e.g. '{\"cluster_k\": 6}'"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of scripts/refresh.py; returns the exit code (see :data:`EXIT_CODES`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        extra_vars = json.loads(args.vars)
        if not isinstance(extra_vars, dict):
            raise JobError(f"--vars must be a JSON object; got {args.vars!r}")
        if "as_of_date" in extra_vars:
            raise JobError("--vars must not set as_of_date; use --as-of-date or --backfill")
        if args.backfill:
            dates = backfill_dates(args.backfill[0], args.backfill[1], args.step)
        else:
            dates = [args.as_of_date or _utc_now().date()]
        published = _resolve(args.published)
        parquet_dir = None
        if not args.no_parquet:
            parquet_dir = _resolve(args.parquet_dir) if args.parquet_dir else None
            parquet_dir = parquet_dir or published.parent / "parquet"
        settings = JobSettings(
            database=_resolve(args.database),
            published=published,
            parquet_dir=parquet_dir,
            include_pii=args.include_pii,
            target=args.target,
            target_path=_resolve(args.target_path),
            max_source_age_days=None if args.max_source_age_days < 0 else args.max_source_age_days,
            extra_vars=extra_vars,
            allow_rewind=args.rewind or bool(args.backfill),
            full_refresh=args.full_refresh,
        )
        settings.database.parent.mkdir(parents=True, exist_ok=True)
        settings.published.parent.mkdir(parents=True, exist_ok=True)
        records = run_job(settings, dates)
    except (JobError, json.JSONDecodeError) as error:
        print(f"refresh.py: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RefreshLockedError as error:
        print(f"refresh.py: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except JobStopped as stop:
        last = stop.records[-1] if stop.records else None
        if last is not None and last.status == "success":
            outcome = f"after run {last.run_id} was published; no further date was run"
        elif last is not None:
            outcome = f"run {last.run_id} recorded {last.status}; the previous publication stays"
        else:
            outcome = "before any run started"
        print(f"refresh.py: {stop}: {outcome}", file=sys.stderr)
        return stop.exit_code
    except (duckdb.Error, publish.PublishError, OSError) as error:
        print(f"refresh.py: error: {type(error).__name__}: {_one_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    succeeded = records and all(record.status == "success" for record in records)
    return EXIT_SUCCESS if succeeded else EXIT_FAILED
