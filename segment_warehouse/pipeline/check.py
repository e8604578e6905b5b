"""Check raw files against the data contract without building the marts.

Runs the project's own loader, staging models and data-quality gate
(``int_raw_tables_gated`` and everything upstream of it, seeds included, no tests) into a
throwaway DuckDB file, then reads the gate's rows: per raw table the rows read, staged and
quarantined, the top quarantine reasons and the verdict. Nothing here re-implements a
rule: the rows come from the gate model's own compiled SQL, run on the models it reads,
so they are there even when the gate stopped the build (its post-hook raises before the
table is kept).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from segment_warehouse.paths import ProjectPaths
from segment_warehouse.pipeline.dbt_runner import dbt_command
from segment_warehouse.pipeline.progress import ProgressDisplay, run_with_progress

GATE_MODEL = "int_raw_tables_gated"
GATE_SQL = Path("compiled") / "segment_warehouse" / "models" / "intermediate" / "data_quality"
COLUMNS = (
    "source_name",
    "table_name",
    "raw_location",
    "raw_rows",
    "staged_rows",
    "quarantined_rows",
    "quarantined_share",
    "top_reasons",
    "gate_status",
    "gate_message",
)


@dataclass
class CheckResult:
    """What the check found: the gate's rows, dbt's exit code and any error it reported."""

    gates: list[dict[str, Any]]
    dbt_return_code: int
    errors: list[str]

    @property
    def passed(self) -> bool:
        """True when dbt succeeded and no gate says error."""
        return self.dbt_return_code == 0 and not any(
            gate["gate_status"] == "error" for gate in self.gates
        )

    @property
    def verdict(self) -> str:
        """error, warn or pass: the worst of the gates (error when dbt itself failed)."""
        statuses = {gate["gate_status"] for gate in self.gates}
        if not self.passed or "error" in statuses:
            return "error"
        return "warn" if "warn" in statuses else "pass"


def run_check(
    project: ProjectPaths,
    raw_data_dir: Path,
    *,
    extra_vars: dict[str, Any] | None = None,
    work_dir: Path | None = None,
    display: ProgressDisplay | None = None,
) -> CheckResult:
    """Load, stage and gate ``raw.data_dir`` into a throwaway warehouse; return the gates."""
    with tempfile.TemporaryDirectory(prefix="segment-warehouse-check-") as temp:
        work = Path(work_dir or temp)
        database = work / "check.duckdb"
        target_path = work / "target"
        variables = {**(extra_vars or {}), "raw.data_dir": str(raw_data_dir)}
        command = dbt_command(
            [
                "build",
                "--select",
                f"+{GATE_MODEL}",
                "--exclude-resource-type",
                "test",
                "unit_test",
            ],
            target="dev",
            target_path=target_path,
            variables=variables,
            log_path=work / "logs",
            project=project,
        )
        env = {
            **os.environ,
            **project.dbt_env(),
            "SEGMENT_WAREHOUSE_DB": str(database),
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_data_dir),
            "DBT_USE_COLORS": "false",
        }
        display = display or ProgressDisplay()
        return_code = run_with_progress(
            command, cwd=str(project.root), env=env, display=display, title="check"
        )
        gates = _read_gates(database, target_path / GATE_SQL / f"{GATE_MODEL}.sql")
        return CheckResult(gates, return_code, list(display.progress.errors))


def _read_gates(database: Path, compiled_sql: Path) -> list[dict[str, Any]]:
    """Run the gate model's compiled SQL on the staged models (none when it never compiled)."""
    if not database.exists() or not compiled_sql.exists():
        return []
    query = compiled_sql.read_text().strip().rstrip(";")
    try:
        with duckdb.connect(str(database), read_only=True) as connection:
            cursor = connection.execute(
                f"select {', '.join(COLUMNS)} from ({query}) as gates"
                " order by is_required desc, source_name, table_name"
            )
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    except duckdb.Error:
        return []


def _reasons(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str) and not value.lstrip().startswith(("[", "{")):
        # "reason count (e.g. row n: detail); ..." -> "reason count, ..."
        return ", ".join(re.sub(r"\s*\(e\.g\..*", "", part).strip() for part in value.split("); "))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    if isinstance(value, list):
        parts = []
        for reason in value[:3]:
            if isinstance(reason, dict):
                label = reason.get("reason") or reason.get("quarantine_reason") or "?"
                count = reason.get("rows") or reason.get("reason_rows")
                parts.append(f"{label} ({count})" if count is not None else str(label))
            else:
                parts.append(str(reason))
        return ", ".join(parts)
    return str(value)


def render_table(result: CheckResult) -> str:
    """Render the gates as a plain-text table, then the verdict and failed gates' messages."""
    header = ("table", "file", "read", "staged", "quarantined", "share", "top reasons", "verdict")
    rows = [
        (
            f"{gate['source_name']}.{gate['table_name']}",
            Path(str(gate["raw_location"] or "")).name or "",
            str(gate["raw_rows"] if gate["raw_rows"] is not None else ""),
            str(gate["staged_rows"] if gate["staged_rows"] is not None else ""),
            str(gate["quarantined_rows"] if gate["quarantined_rows"] is not None else ""),
            f"{gate['quarantined_share']:.1%}" if gate["quarantined_share"] is not None else "",
            _reasons(gate["top_reasons"]),
            str(gate["gate_status"]),
        )
        for gate in result.gates
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in [header, *rows]]  # fmt: skip
    for gate in result.gates:
        if gate["gate_status"] == "error" and gate["gate_message"]:
            lines.append(f"{gate['gate_status']}: {gate['gate_message']}")
    if not result.gates:
        lines.append("no gate ran: the raw files could not be loaded")
        lines += [f"error: {error}" for error in result.errors]
    elif result.dbt_return_code != 0 and not any(g["gate_status"] == "error" for g in result.gates):
        lines += [f"error: {error}" for error in result.errors]
    lines.append(f"verdict: {result.verdict}")
    return "\n".join(lines) + "\n"
