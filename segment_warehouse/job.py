"""The scheduled refresh: one command that rebuilds the warehouse for a date and publishes it.

For each ``as_of_date`` the job runs ``dbt build`` (source freshness is a model with an
error-severity test, so stale sources fail the build), which also records the segment
history; then, only when every node passed (warnings allowed), it copies the public marts
into the published DuckDB file that BI tools read and swaps it in atomically
(:mod:`segment_warehouse.publish`). Every run, passed or failed, leaves a run record in the
warehouse table ``ops.job_runs`` and in ``job_runs.jsonl`` beside the published file,
and dbt's output in a log file per run.

Exit codes: 0 when every date built, passed and was published; 1 when a build or the
publish failed (the previous publication stays in place); 2 for invalid arguments.
"""

from __future__ import annotations

import argparse
import calendar
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb

from segment_warehouse import publish
from segment_warehouse.dbt_runner import PROJECT_DIR, dbt_command

DEFAULT_DATABASE = "warehouse/segment_warehouse.duckdb"
DEFAULT_PUBLISHED = "warehouse/published/segment_warehouse.duckdb"
RUNS_TABLE = "ops.job_runs"
FAILING_STATUSES = {"error", "fail", "runtime error"}


class JobError(RuntimeError):
    """The job cannot start: a bad argument or a state it refuses to overwrite."""


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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


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


def _summarise_results(
    results_file: Path,
) -> tuple[dict[str, int], list[dict[str, Any]], list[str]]:
    """Count nodes per status; list the nodes that did not pass and the tests that warned."""
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
                    "message": (result.get("message") or "")[:500],
                }
            )
    return dict(sorted(counts.items())), failed, sorted(warned)


def _run_dbt_build(settings: JobSettings, as_of_date: dt.date, log_file: Path) -> int:
    """Run dbt build for ``as_of_date`` with its output in ``log_file``; return the exit code."""
    variables = {**settings.extra_vars, "as_of_date": as_of_date.isoformat()}
    if settings.max_source_age_days is not None:
        variables["source_max_age_days"] = settings.max_source_age_days
    # unit tests check SQL logic on fixed inputs: they run in CI, not in every refresh
    # --full-refresh re-parses every raw row in the incremental base models; the history
    # models are never rebuilt (full_refresh: false)
    full_refresh = ["--full-refresh"] if settings.full_refresh else []
    command = dbt_command(
        ["build", "--exclude-resource-type", "unit_test", *full_refresh],
        target=settings.target,
        target_path=settings.target_path,
        variables=variables,
    )
    env = {**os.environ, "DBT_USE_COLORS": "false"}
    env["SEGMENT_WAREHOUSE_TEST_DB" if settings.target == "test" else "SEGMENT_WAREHOUSE_DB"] = str(
        settings.database
    )
    (settings.target_path / "run_results.json").unlink(missing_ok=True)
    with log_file.open("a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        completed = subprocess.run(
            command, cwd=PROJECT_DIR, env=env, stdout=log, stderr=subprocess.STDOUT, check=False
        )
    return completed.returncode


def _mart_row_counts(database: Path, relations: dict[str, str]) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            name: connection.execute(f"select count(*) from {relation}").fetchall()[0][0]
            for name, relation in relations.items()
        }


def _record(settings: JobSettings, record: RunRecord, *, final: bool = True) -> None:
    """Upsert the run record into ops.job_runs and, when ``final``, append it to job_runs.jsonl."""
    if final:
        settings.log_dir.mkdir(parents=True, exist_ok=True)
        with (settings.published.parent / "job_runs.jsonl").open("a") as runs_log:
            runs_log.write(json.dumps(asdict(record), sort_keys=True) + "\n")
    if not settings.database.exists():
        return
    row = asdict(record)
    for key in ("node_counts", "failed_nodes", "warned_tests", "row_counts"):
        row[key] = json.dumps(row[key], sort_keys=True)
    with duckdb.connect(str(settings.database)) as connection:
        connection.execute("create schema if not exists ops")
        connection.execute(
            f"""
            create table if not exists {RUNS_TABLE} (
                run_id varchar primary key,
                as_of_date date,
                started_at timestamp,
                ended_at timestamp,
                status varchar,
                published boolean,
                message varchar,
                node_counts json,
                failed_nodes json,
                warned_tests json,
                row_counts json,
                log_file varchar
            )
            """
        )
        connection.execute(f"delete from {RUNS_TABLE} where run_id = ?", [record.run_id])
        columns = ", ".join(row)
        placeholders = ", ".join("?" for _ in row)
        connection.execute(
            f"insert into {RUNS_TABLE} ({columns}) values ({placeholders})",
            list(row.values()),
        )


def refresh(settings: JobSettings, as_of_date: dt.date) -> RunRecord:
    """Build, record and (when green) publish the warehouse for one ``as_of_date``."""
    started = _utc_now()
    run_id = f"{as_of_date.isoformat()}_{started.strftime('%Y%m%dT%H%M%SZ')}_{uuid.uuid4().hex[:6]}"
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    log_file = settings.log_dir / f"{run_id}.log"
    record = RunRecord(
        run_id=run_id,
        as_of_date=as_of_date.isoformat(),
        started_at=started.isoformat(),
        log_file=str(log_file),
    )
    try:
        return_code = _run_dbt_build(settings, as_of_date, log_file)
        record.node_counts, record.failed_nodes, record.warned_tests = _summarise_results(
            settings.target_path / "run_results.json"
        )
        if return_code != 0 or record.failed_nodes:
            record.status = "failed"
            names = ", ".join(node["node"] for node in record.failed_nodes[:10])
            record.message = f"dbt build exited with {return_code}" + (
                f"; not passed: {names}" if names else ""
            )
        else:
            relations = publish.public_models(
                settings.target_path / "manifest.json", include_pii=settings.include_pii
            )
            record.row_counts = _mart_row_counts(settings.database, relations)
            record.status = "success"
            record.published = True
            record.ended_at = _utc_now().isoformat()
            # the published copy carries its own run as passed
            _record(settings, record, final=False)
            publish.publish(
                settings.database,
                {**relations, "job_runs": RUNS_TABLE},
                settings.published,
                run_id=run_id,
                as_of_date=as_of_date,
                parquet_dir=settings.parquet_dir,
            )
            record.message = f"published {len(relations)} marts to {settings.published}" + (
                f" and {settings.parquet_dir}" if settings.parquet_dir else ""
            )
    except Exception as error:  # recorded, then reported by the exit code
        record.status = "failed"
        record.published = False
        record.message = f"{type(error).__name__}: {error}"
    record.ended_at = _utc_now().isoformat()
    _record(settings, record)
    return record


def run_job(settings: JobSettings, dates: Sequence[dt.date]) -> list[RunRecord]:
    """Refresh each date in order, stopping at the first that fails.

    With ``full_refresh`` the first date rebuilds the incremental base models from the raw
    files; the dates after it run incrementally.

    Raises:
        JobError: the first date is before the latest recorded run and rewinding the
            history was not allowed (``allow_rewind``, or a backfill).

    """
    latest = latest_recorded_date(settings.database)
    if latest is not None and dates[0] < latest and not settings.allow_rewind:
        raise JobError(
            f"{dates[0]} is before the latest recorded run ({latest}) of {settings.database}: "
            "running it would replay the segment history from that date. Pass --rewind to do "
            "so, or --backfill FROM TO to replay a range."
        )
    publish.remove_stale_files(settings.published, settings.parquet_dir)
    records = []
    for number, as_of_date in enumerate(dates):
        record = refresh(
            settings if number == 0 else replace(settings, full_refresh=False),
            as_of_date,
        )
        records.append(record)
        print(
            f"{record.as_of_date}: {record.status} - {record.message} (log: {record.log_file})",
            flush=True,
        )
        if record.status != "success":
            break
    return records


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from error


def _resolve(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate


def build_parser() -> argparse.ArgumentParser:
    """Define the command line of scripts/refresh.py."""
    parser = argparse.ArgumentParser(
        prog="refresh.py",
        description=(
            "Scheduled refresh: dbt build for an as_of_date (source freshness checked), "
            "segment history recorded, public marts published atomically for BI, and a run "
            "record written. Exit code 0 only when everything passed."
        ),
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
    """Entry point of scripts/refresh.py; returns the exit code."""
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
        return 2
    return 0 if records and all(record.status == "success" for record in records) else 1
