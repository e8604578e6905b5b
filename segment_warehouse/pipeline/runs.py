"""The scheduled job's run records, and what a dbt build's results say about a run.

Every run has a record in the warehouse table ``ops.job_runs`` (:data:`RUNS_TABLE`),
written when it starts and updated as it goes; its final state is also appended to
``job_runs.jsonl`` beside the published file. :mod:`segment_warehouse.pipeline.job` lists
the statuses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from segment_warehouse.pipeline import publish

if TYPE_CHECKING:
    from segment_warehouse.pipeline.job import JobSettings

RUNS_TABLE = "ops.job_runs"
FAILING_STATUSES = {"error", "fail", "runtime error"}

STATUSES = {
    "running": "the job is building the warehouse (dbt build)",
    "publishing": "the build passed; the public marts are being copied and swapped in",
    "success": "built, passed and published: the published copy holds this run",
    "failed": "the build, a gate or the publish failed; the previous publication stays",
    "killed": "stopped by SIGINT or SIGTERM; the previous publication stays",
    "abandoned": "the process died without recording an outcome; marked by a later run",
    "unchanged": (
        "nothing new: the raw files, the project, the vars and as_of_date are those of the "
        "published run, so nothing was rebuilt and the publication stays current"
    ),
}
"""Every status a run record can have, and what it means."""
UNFINISHED_STATUSES = ("running", "publishing")
"""Statuses of a run that has not ended; one left behind belongs to a process that died."""
CURRENT_STATUSES = ("success", "unchanged")
"""Statuses after which the published copy is current for the run's date and inputs."""

MESSAGE_CHARS = 1500
"""A failed node's message is cut to this many characters in the run's message."""
_FAILING_ROWS_SHOWN = 3


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
    inputs_digest: str | None = None
    """SHA-256 of what the run read (:mod:`segment_warehouse.pipeline.fingerprint`); None
    when it could not be computed."""


def utc_now() -> dt.datetime:
    """Return the time now in UTC, to the microsecond.

    ops.job_runs is read in ``started_at`` order (the latest run is the last row). Runs
    follow each other within a second (a run with nothing new takes less), so a time to the
    second would tie them and make "the latest run" an arbitrary one of them.
    """
    return dt.datetime.now(dt.UTC)


def one_line(text: object) -> str:
    """Return ``text`` on one line, whitespace collapsed."""
    return " ".join(str(text).split())


# ---- dbt ----------------------------------------------------------------------------------


def summarise_results(
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


def failure_message(
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


def mart_row_counts(database: Path, relations: dict[str, str]) -> dict[str, int]:
    """Count the rows of each relation (name -> relation) in ``database``."""
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
    ("inputs_digest", "varchar"),
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


def record_run(settings: JobSettings, record: RunRecord, *, final: bool = True) -> None:
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
            f"segment-warehouse refresh: warning: run {record.run_id} ({record.status}) is in "
            f"{settings.runs_log} but not in {RUNS_TABLE}: {one_line(error)}",
            file=sys.stderr,
            flush=True,
        )


def finish_run(
    settings: JobSettings, record: RunRecord, status: str, message: str, *, published: bool
) -> None:
    """Give the record its outcome and write it, with signals held so that it is whole."""
    with publish.signals_held():
        record.status = status
        record.published = published
        record.message = message
        record.ended_at = utc_now().isoformat()
        record_run(settings, record)


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
                inputs_digest=values["inputs_digest"],
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
    published_run = published_run_id(settings.published)
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
        record.ended_at = utc_now().isoformat()
        record_run(settings, record)
    return left


def published_run_id(published: Path) -> str | None:
    """Return the run id the published copy holds (None: nothing readable is published)."""
    try:
        publication = publish.read_publication(published)
    except publish.PublishError:
        return None
    return publication.run_id if publication is not None else None


def read_run(database: Path, run_id: str) -> RunRecord | None:
    """Return the record of ``run_id`` from ops.job_runs (None when there is none)."""
    if not database.exists():
        return None
    with duckdb.connect(str(database), read_only=True) as connection:
        exists = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'ops' and table_name = 'job_runs'"
        ).fetchall()[0][0]
        columns = {
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = 'ops' and table_name = 'job_runs'"
            ).fetchall()
        }
        if not exists or not {name for name, _ in _RUNS_COLUMNS} <= columns:
            return None
        found = _read_records(connection, "run_id = ?", [run_id])
    return found[-1] if found else None


def published_runs_relation(succeeded: RunRecord) -> str:
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


# ---- a new run ------------------------------------------------------------------------------


def new_record(settings: JobSettings, as_of_date: dt.date) -> RunRecord:
    """Start the record of a run of ``as_of_date``: a new run id, its log file, this process."""
    started = utc_now()
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


def print_record(record: RunRecord) -> None:
    """Print the record's outcome on one line."""
    print(
        f"{record.as_of_date}: {record.status} - {record.message} (log: {record.log_file})",
        flush=True,
    )
