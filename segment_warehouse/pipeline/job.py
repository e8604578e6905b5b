"""The scheduled refresh: one command that rebuilds the warehouse for a date and publishes it.

For each ``as_of_date`` the job runs ``dbt build`` (source freshness is a model with an
error-severity test, so stale sources fail the build), which also records the segment
history. The date reaches dbt as the environment variable :data:`AS_OF_DATE_ENV`, not as a
var: dbt parses the whole project again whenever a var changes, but re-reads only the files
that use an environment variable that changed, so a new day keeps dbt's partial parse.
Then, only when every node passed (warnings allowed), it copies the public marts into the
published DuckDB file that BI tools read and swaps it in atomically, with the Parquet
copies (:mod:`segment_warehouse.pipeline.publish`).

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
  lock, since no other job can be running then;
- ``unchanged``: nothing new. The run would read exactly what the published run read: the
  same raw files (by content), project files, package, vars, target, publication options
  and ``as_of_date`` (:mod:`segment_warehouse.pipeline.fingerprint`). Nothing is rebuilt;
  the publication stays, current. ``--force`` and ``--full-refresh`` always rebuild.

Signals: dbt runs in its own session, so a terminal's Ctrl-C reaches the job only. On
SIGINT or SIGTERM the job terminates dbt's process group (SIGTERM, then SIGKILL after
:data:`DBT_STOP_TIMEOUT_SECONDS`), records the run ``killed`` and exits with 130 or 143. A
signal during the publish aborts it: the new files are removed, the previous publication
stays byte for byte. A signal during the swap itself (renames, milliseconds) is held until
the swap is done and the run recorded ``success``; the job then exits with 130 or 143
before any next date. On Linux dbt also dies with the job when the job is killed with
SIGKILL.

Exit codes (:data:`EXIT_CODES`): 0 every date built, passed and was published (or was
unchanged since its published run); 1 a build,
a gate or the publish failed (the previous publication stays in place); 2 invalid
arguments; 3 another refresh of the warehouse is running; 130 stopped by SIGINT; 143
stopped by SIGTERM.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from segment_warehouse.paths import (
    AS_OF_DATE_ENV,
    DEFAULT_PUBLISHED,
    DEFAULT_WAREHOUSE,
    PUBLISHED_ENV,
    WAREHOUSE_ENV,
    ProjectPaths,
    project_paths,
)
from segment_warehouse.pipeline import erasure, fingerprint, publish
from segment_warehouse.pipeline.dbt_runner import dbt_command
from segment_warehouse.pipeline.locks import (
    JobStopped,
    RefreshLock,
    RefreshLockedError,
    child_setup,
    pending_stop,
    refresh_lock_path,
    signals_stop_the_job,
    stop_process_group,
)
from segment_warehouse.pipeline.runs import (
    CURRENT_STATUSES,
    STATUSES,
    UNFINISHED_STATUSES,
    RunRecord,
    failure_message,
    finish_run,
    mark_abandoned,
    mart_row_counts,
    new_record,
    node_message,
    one_line,
    print_record,
    published_run_id,
    published_runs_relation,
    read_run,
    record_run,
    summarise_results,
    utc_now,
)

__all__ = ["STATUSES", "JobSettings", "JobStopped", "RunRecord", "main", "refresh", "run_job"]

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3
EXIT_CODES = {
    EXIT_SUCCESS: (
        "success: every date built, passed and was published, or was unchanged since its "
        "published run"
    ),
    EXIT_FAILED: "a build, a gate or the publish failed (the previous publication is kept)",
    EXIT_USAGE: "invalid arguments",
    EXIT_LOCKED: "another refresh of this warehouse is running (nothing was done)",
    128 + signal.SIGINT: "stopped by SIGINT (Ctrl-C): dbt stopped, run recorded killed",
    128 + signal.SIGTERM: "stopped by SIGTERM: dbt stopped, run recorded killed",
}
"""Exit code -> meaning; ``--help`` lists them."""


class JobError(RuntimeError):
    """The job cannot start: a bad argument or a state it refuses to overwrite."""


@dataclass(frozen=True)
class JobSettings:
    """Where the job reads and writes, and how dbt is called."""

    database: Path
    published: Path
    target: str = "dev"
    target_path: Path | None = None
    """dbt's target directory (default: the project's target/)."""
    max_source_age_days: int | None = 3
    extra_vars: dict[str, Any] = field(default_factory=dict)
    allow_rewind: bool = False
    full_refresh: bool = False
    force: bool = False
    """Rebuild even when nothing changed since the published run."""
    parquet_dir: Path | None = None
    """Where Parquet copies of the published marts go (a link publish manages); None: none."""
    include_pii: bool = False
    """Publish the columns tagged ``meta: {pii: true}`` too."""
    audience_dir: Path | None = None
    """Where each audience is exported as CSV and Parquet (a link publish manages); None: none."""
    project_dir: Path | None = None
    """The dbt project (default: the current one, :mod:`segment_warehouse.paths`)."""

    def __post_init__(self) -> None:
        """Fill in the project directory and dbt's target directory when not given."""
        if self.project_dir is None:
            object.__setattr__(self, "project_dir", project_paths().root)
        if self.target_path is None:
            object.__setattr__(self, "target_path", self.project.target_dir)

    @property
    def project(self) -> ProjectPaths:
        """The paths of the dbt project the job builds."""
        return ProjectPaths(Path(self.project_dir))

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


def _build_variables(settings: JobSettings) -> dict[str, Any]:
    """Return the dbt vars of the job's builds: the same for every date (the date is not one)."""
    variables = dict(settings.extra_vars)
    if settings.max_source_age_days is not None:
        variables["quality.source_max_age_days"] = settings.max_source_age_days
    return variables


def _inputs_digest(settings: JobSettings, as_of_date: dt.date) -> str | None:
    """Return the digest of what one date's run reads (None: it cannot be known)."""
    options = {
        # the date hashed among the vars, as when it was one, so that earlier digests still match
        "vars": {**_build_variables(settings), "as_of_date": as_of_date.isoformat()},
        "target": settings.target,
        "database": str(settings.database),
        "published": str(settings.published),
        "parquet_dir": str(settings.parquet_dir) if settings.parquet_dir else None,
        "audience_dir": str(settings.audience_dir) if settings.audience_dir else None,
        "include_pii": settings.include_pii,
    }
    return fingerprint.inputs_digest(settings.project, options)


def _unchanged_run(settings: JobSettings, record: RunRecord) -> RunRecord | None:
    """Return the published run that ``record`` would repeat, or None when it must build.

    It repeats a run when the published copy holds that run, the run succeeded, read the
    same inputs (digest) for the same as_of_date, and its Parquet and audience exports are
    in place. ``--force`` and ``--full-refresh`` always build.
    """
    if settings.force or settings.full_refresh or record.inputs_digest is None:
        return None
    run_id = published_run_id(settings.published)
    previous = read_run(settings.database, run_id) if run_id else None
    if previous is None or previous.status != "success" or not previous.published:
        return None
    if (previous.inputs_digest, previous.as_of_date) != (record.inputs_digest, record.as_of_date):
        return None
    exports = (settings.parquet_dir, settings.audience_dir)
    if any(path is not None and not path.exists() for path in exports):
        return None
    return previous


def _dbt_build_command(settings: JobSettings) -> list[str]:
    """Return the job's dbt build command line; the date goes in the environment."""
    variables = _build_variables(settings)
    # unit tests check SQL logic on fixed inputs: they run in CI, not in every refresh
    # --full-refresh re-parses every raw row in the incremental base models; the history
    # models are never rebuilt (full_refresh: false)
    full_refresh = ["--full-refresh"] if settings.full_refresh else []
    return dbt_command(
        ["build", "--exclude-resource-type", "unit_test", *full_refresh],
        target=settings.target,
        target_path=settings.target_path,
        variables=variables,
        project=settings.project,
    )


def _run_dbt_build(settings: JobSettings, as_of_date: dt.date, log_file: Path) -> int:
    """Run dbt build for ``as_of_date`` with its output in ``log_file``; return the exit code.

    dbt runs in its own session and process group. When the job is stopped (JobStopped,
    or any other exception) while dbt runs, dbt's group is terminated before it propagates.
    """
    command = _dbt_build_command(settings)
    env = {**os.environ, "DBT_USE_COLORS": "false", AS_OF_DATE_ENV: as_of_date.isoformat()}
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
                    cwd=settings.project_dir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # run between fork and exec; safe here: no DuckDB connection is open
                    preexec_fn=child_setup(os.getpid()),
                )
            return process.wait()
        except BaseException:
            if process is not None:
                stop_process_group(process)
            raise


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
    record = new_record(settings, as_of_date)
    if lock is not None:
        lock.update(run_id=record.run_id, as_of_date=record.as_of_date)
    try:
        for abandoned in mark_abandoned(settings, found_by=record.run_id):
            print_record(abandoned)
        record.inputs_digest = _inputs_digest(settings, as_of_date)
        previous = _unchanged_run(settings, record)
        if previous is not None:
            message = (
                f"nothing new since run {previous.run_id}: the same raw files, project, vars "
                f"and as_of_date {record.as_of_date}; its publication is current, nothing "
                "was rebuilt (--force rebuilds)"
            )
            finish_run(settings, record, "unchanged", message, published=False)
            return record
        record_run(settings, record, final=False)
        erasures_before = erasure.erasure_state(settings.database)
        return_code = _run_dbt_build(settings, as_of_date, Path(record.log_file))
        record.node_counts, record.failed_nodes, record.warned_tests = summarise_results(
            settings.target_path / "run_results.json"
        )
        if return_code != 0 or record.failed_nodes:
            message = failure_message(
                return_code, record.failed_nodes, settings.database, Path(record.log_file)
            )
            finish_run(settings, record, "failed", message, published=False)
        else:
            # the job's own records must not keep what the build erased
            erasure.scrub_job_records(settings.database, settings.runs_log, settings.log_dir)
            new_erasure = erasure.applies_new_erasure(
                erasures_before, erasure.erasure_state(settings.database)
            )
            _publish(settings, record, as_of_date, keep_previous=not new_erasure)
    except BaseException as error:
        stop = error if isinstance(error, JobStopped) else pending_stop()
        if stop is None:
            if not isinstance(error, Exception):
                raise
            # recorded, then reported by the exit code
            step = "publish failed: " if record.status == "publishing" else ""
            message = f"{step}{type(error).__name__}: {node_message(str(error))}"
            finish_run(settings, record, "failed", message, published=False)
            return record
        if record.status in UNFINISHED_STATUSES:
            step = "the dbt build (dbt stopped)" if record.status == "running" else "the publish"
            message = (
                f"stopped by {stop.signal_name} during {step}; the previous publication "
                "stays in place"
            )
            finish_run(settings, record, "killed", message, published=False)
        # else the outcome was recorded before the signal was handled
        stop.records.append(record)
        if stop is error:
            raise
        raise stop from error
    return record


def _publish(
    settings: JobSettings, record: RunRecord, as_of_date: dt.date, *, keep_previous: bool = True
) -> None:
    """Publish a green build; the record turns ``success`` as the swap completes.

    ``keep_previous`` false (the build applied a new erasure) removes the previous Parquet
    version after the swap instead of keeping it for readers.
    """
    relations = publish.public_models(
        settings.target_path / "manifest.json", include_pii=settings.include_pii
    )
    record.row_counts = mart_row_counts(settings.database, relations)
    record.status = "publishing"
    record_run(settings, record, final=False)
    succeeded = replace(
        record,
        status="success",
        published=True,
        ended_at=utc_now().isoformat(),
        message=f"published {len(relations)} marts to {settings.published}"
        + (f" and {settings.parquet_dir}" if settings.parquet_dir else "")
        + (f"; audiences exported to {settings.audience_dir}" if settings.audience_dir else ""),
    )

    def swapped(_: publish.Publication) -> None:
        # signals are held: nothing falls between the swap and this record
        record.status, record.published, record.message = "success", True, succeeded.message
        record.ended_at = utc_now().isoformat()
        record_run(settings, record)

    publish.publish(
        settings.database,
        {**relations, "job_runs": published_runs_relation(succeeded)},
        settings.published,
        run_id=record.run_id,
        as_of_date=as_of_date,
        parquet_dir=settings.parquet_dir,
        audience_dir=settings.audience_dir,
        after_swap=swapped,
        keep_previous=keep_previous,
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
        "started_at": utc_now().isoformat(),
        "database": str(settings.database),
        "dates": f"{dates[0].isoformat()} to {dates[-1].isoformat()} ({len(dates)})",
    }
    records: list[RunRecord] = []
    try:
        with signals_stop_the_job(), RefreshLock(settings.lock_path, holder) as lock:
            try:
                _run_dates(settings, dates, lock, records)
            except Exception as error:
                stop = pending_stop()
                if stop is None:
                    raise
                raise stop from error
    except JobStopped as stop:
        for record in stop.records:
            print_record(record)
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
    publish.remove_stale_files(settings.published, settings.parquet_dir, settings.audience_dir)
    for number, as_of_date in enumerate(dates):
        record = refresh(
            settings if number == 0 else replace(settings, full_refresh=False),
            as_of_date,
            lock=lock,
        )
        records.append(record)
        print_record(record)
        stop = pending_stop()
        if stop is not None:
            raise stop
        if record.status not in CURRENT_STATUSES:
            return


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _exit_codes_epilog() -> str:
    width = max(len(str(code)) for code in EXIT_CODES)
    lines = [f"  {code:>{width}}  {meaning}" for code, meaning in EXIT_CODES.items()]
    return "exit codes:\n" + "\n".join(lines)


PROG = "segment-warehouse refresh"


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    """Define the command line of ``segment-warehouse refresh``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Scheduled refresh: dbt build for an as_of_date (source freshness checked), "
            "segment history recorded, public marts published atomically for BI, and a run "
            "record written to ops.job_runs and job_runs.jsonl (running, publishing, "
            "success, failed, killed, abandoned or unchanged: nothing new since the published "
            "run). One refresh of a warehouse at a time (lock file <database>.refresh.lock). "
            "Exit code 0 only when everything passed."
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
        "--force",
        action="store_true",
        help=(
            "build and publish even when the raw files, the project, the vars and the date "
            "are those of the published run (by default such a run is recorded unchanged)"
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
        default=os.environ.get(WAREHOUSE_ENV) or str(DEFAULT_WAREHOUSE),
        help=f"warehouse file dbt writes (default ${WAREHOUSE_ENV} or {DEFAULT_WAREHOUSE})",
    )
    parser.add_argument(
        "--published",
        default=os.environ.get(PUBLISHED_ENV) or str(DEFAULT_PUBLISHED),
        help=f"file BI tools read (default ${PUBLISHED_ENV} or {DEFAULT_PUBLISHED})",
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
        "--audience-dir",
        default=None,
        help=(
            "where each audience is exported as CSV and Parquet, a symbolic link swapped "
            "atomically (default: audiences beside the published file)"
        ),
    )
    parser.add_argument("--no-audiences", action="store_true", help="export no audience files")
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


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Entry point of ``segment-warehouse refresh``; returns the exit code (:data:`EXIT_CODES`).

    Relative paths are taken from the project directory (:mod:`segment_warehouse.paths`).
    """
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    project = project_paths()
    _resolve = project.resolve
    try:
        extra_vars = json.loads(args.vars)
        if not isinstance(extra_vars, dict):
            raise JobError(f"--vars must be a JSON object; got {args.vars!r}")
        if "as_of_date" in extra_vars:
            raise JobError("--vars must not set as_of_date; use --as-of-date or --backfill")
        if args.backfill:
            dates = backfill_dates(args.backfill[0], args.backfill[1], args.step)
        else:
            dates = [args.as_of_date or utc_now().date()]
        published = _resolve(args.published)
        parquet_dir = None
        if not args.no_parquet:
            parquet_dir = _resolve(args.parquet_dir) if args.parquet_dir else None
            parquet_dir = parquet_dir or published.parent / "parquet"
        audience_dir = None
        if not args.no_audiences:
            audience_dir = _resolve(args.audience_dir) if args.audience_dir else None
            audience_dir = audience_dir or published.parent / "audiences"
        settings = JobSettings(
            database=_resolve(args.database),
            published=published,
            parquet_dir=parquet_dir,
            audience_dir=audience_dir,
            include_pii=args.include_pii,
            target=args.target,
            target_path=_resolve(args.target_path),
            max_source_age_days=None if args.max_source_age_days < 0 else args.max_source_age_days,
            extra_vars=extra_vars,
            allow_rewind=args.rewind or bool(args.backfill),
            project_dir=project.root,
            full_refresh=args.full_refresh,
            force=args.force,
        )
        settings.database.parent.mkdir(parents=True, exist_ok=True)
        settings.published.parent.mkdir(parents=True, exist_ok=True)
        records = run_job(settings, dates)
    except (JobError, json.JSONDecodeError) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RefreshLockedError as error:
        print(f"{prog}: {error}", file=sys.stderr)
        return EXIT_LOCKED
    except JobStopped as stop:
        last = stop.records[-1] if stop.records else None
        if last is not None and last.status == "success":
            outcome = f"after run {last.run_id} was published; no further date was run"
        elif last is not None:
            outcome = f"run {last.run_id} recorded {last.status}; the previous publication stays"
        else:
            outcome = "before any run started"
        print(f"{prog}: {stop}: {outcome}", file=sys.stderr)
        return stop.exit_code
    except (duckdb.Error, publish.PublishError, OSError) as error:
        print(f"{prog}: error: {type(error).__name__}: {one_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    succeeded = records and all(record.status in CURRENT_STATUSES for record in records)
    return EXIT_SUCCESS if succeeded else EXIT_FAILED
