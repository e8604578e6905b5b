"""Erasure beyond the marts: the job's own records and the published copies.

dbt removes an erased person from every mart (docs/privacy.md, "How to request an
erasure"); what dbt does not write, the job cleans after a green build, before publishing:

- :func:`scrub_job_records` replaces every erased identifier (``intermediate.
  int_erased_identifiers``) in ``ops.job_runs`` and in ``job_runs.jsonl`` and the run log
  files beside the published file (a failure message can quote failing rows) with
  ``(erased)``;
- :func:`erasure_state` and :func:`applies_new_erasure` tell whether this build applied an
  erasure that the previous one had not (a request newly matched, or more records erased),
  in which case the publish drops the previous Parquet version instead of keeping it for
  readers (:func:`segment_warehouse.pipeline.publish.publish`, ``keep_previous``).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import duckdb

from segment_warehouse.pipeline.runs import RUNS_TABLE

ERASED_IDENTIFIERS = "intermediate.int_erased_identifiers"
ERASURE_LOG = "marts.erasure_log"
PLACEHOLDER = "(erased)"
# Shorter values would match inside unrelated text (a customer id "7" in every number).
MIN_SCRUB_CHARS = 4


def _relation_exists(connection: duckdb.DuckDBPyConnection, relation: str) -> bool:
    schema, name = relation.split(".")
    found = connection.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchall()
    return bool(found[0][0])


def erased_identifiers(database: Path) -> list[str]:
    """Every value identifying an erased person, longest first; [] when there is none."""
    if not Path(database).is_file():
        return []
    with duckdb.connect(str(database), read_only=True) as connection:
        if not _relation_exists(connection, ERASED_IDENTIFIERS):
            return []
        rows = connection.execute(
            f"select distinct identifier_value from {ERASED_IDENTIFIERS}"
            " where identifier_value is not null"
        ).fetchall()
    values = {str(row[0]) for row in rows if len(str(row[0])) >= MIN_SCRUB_CHARS}
    return sorted(values, key=lambda value: (-len(value), value))


def scrub_text(text: str, identifiers: Iterable[str]) -> str:
    """``text`` with every occurrence of an identifier (any case) replaced by (erased)."""
    values = [value for value in identifiers if value]
    if not values or not text:
        return text
    pattern = re.compile("|".join(re.escape(value) for value in values), re.IGNORECASE)
    return pattern.sub(PLACEHOLDER, text)


def _scrub_file(path: Path, identifiers: list[str]) -> bool:
    """Rewrite a text file without the identifiers (atomically); True when it changed."""
    original = path.read_text(encoding="utf-8", errors="surrogateescape")
    scrubbed = scrub_text(original, identifiers)
    if scrubbed == original:
        return False
    temp = path.with_name(f".{path.name}.scrub")
    temp.write_text(scrubbed, encoding="utf-8", errors="surrogateescape")
    os.replace(temp, path)
    return True


def _scrub_runs_table(database: Path, identifiers: list[str]) -> int:
    """Scrub every text column of ops.job_runs; return the rows changed."""
    with duckdb.connect(str(database)) as connection:
        if not _relation_exists(connection, RUNS_TABLE):
            return 0
        columns = [
            row[0]
            for row in connection.execute(
                "select column_name from information_schema.columns where table_schema = 'ops'"
                " and table_name = 'job_runs' and data_type = 'VARCHAR'"
            ).fetchall()
        ]
        selected = ", ".join(columns)
        rows = connection.execute(f"select run_id, {selected} from {RUNS_TABLE}").fetchall()
        changed = 0
        connection.execute("begin transaction")
        for run_id, *values in rows:
            scrubbed = [scrub_text(value, identifiers) if value else value for value in values]
            if scrubbed != list(values):
                assignments = ", ".join(f"{column} = ?" for column in columns)
                connection.execute(
                    f"update {RUNS_TABLE} set {assignments} where run_id = ?", [*scrubbed, run_id]
                )
                changed += 1
        connection.execute("commit")
    return changed


def scrub_job_records(database: Path, runs_log: Path, log_dir: Path) -> int:
    """Remove every erased identifier from the job's records; return the places changed.

    Covers ``ops.job_runs`` (every text column), ``runs_log`` (job_runs.jsonl) and the run
    log files in ``log_dir``. Does nothing when nobody is erased.
    """
    identifiers = erased_identifiers(database)
    if not identifiers:
        return 0
    changed = _scrub_runs_table(database, identifiers)
    files = [runs_log] if runs_log.is_file() else []
    if log_dir.is_dir():
        files += sorted(path for path in log_dir.rglob("*") if path.is_file())
    changed += sum(_scrub_file(path, identifiers) for path in files)
    return changed


def erasure_state(database: Path) -> dict[str, tuple[bool, int]]:
    """Per erasure_log hash: (matched a person, source records erased); {} without a log."""
    if not Path(database).is_file():
        return {}
    with duckdb.connect(str(database), read_only=True) as connection:
        if not _relation_exists(connection, ERASURE_LOG):
            return {}
        rows = connection.execute(
            f"select erasure_hash, is_matched, erased_record_count from {ERASURE_LOG}"
        ).fetchall()
    return {row[0]: (bool(row[1]), int(row[2])) for row in rows}


def applies_new_erasure(
    before: Mapping[str, tuple[bool, int]], after: Mapping[str, tuple[bool, int]]
) -> bool:
    """Tell whether ``after`` erases someone or something that ``before`` did not."""
    for erasure_hash, (matched, record_count) in after.items():
        was_matched, was_count = before.get(erasure_hash, (False, 0))
        if matched and (not was_matched or record_count > was_count):
            return True
    return False


def describe(state: Mapping[str, tuple[bool, int]]) -> str:
    """Summarise the state for messages (counts only, never an identifier)."""
    matched = sum(1 for is_matched, _ in state.values() if is_matched)
    return json.dumps({"requests": len(state), "matched": matched})
