"""Time the incremental base models against a full rebuild; write BENCHMARKS.md.

The demo generator writes ``--customers`` customers (seed ``--seed``) and its orders,
order lines and web sessions are put in arrival order (``segment_warehouse.demo.arrival``).
The files as they stood ``--increment-days`` days before the latest order date are a
prefix of them. Two warehouses are built with dbt (``--select`` the staging layer of the three
incremental tables and what it needs, no tests):

- incremental: a first build on the earlier files, then an incremental run on the final
  files (the increment), then the same run again (nothing new);
- full: one build from scratch on the final files.

The seconds of each base model come from dbt's run_results.json; the three base tables
of the two warehouses are then compared row by row (``except all`` both ways), so the
figures are only written when incremental equals full. The results replace the
``incremental`` section of BENCHMARKS.md.

    python scripts/benchmark_incremental.py                   # 1,000,000 demo customers
    python scripts/benchmark_incremental.py --customers 50000 --output /tmp/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import platform
import shlex
import shutil
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segment_warehouse.demo.arrival import INCREMENTAL_TABLES, arrange_in_arrival_order, arrival_sql
from segment_warehouse.demo.generator import generate
from segment_warehouse.documentation.readme import write_section
from segment_warehouse.pipeline.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECTION = "incremental"
SECTION_HEADING = "## Incremental base models"
DEFAULT_CUSTOMERS = 1_000_000
BASE_MODELS = {
    "orders": "base_shop__orders",
    "order_lines": "base_shop__order_lines",
    "web_sessions": "base_web__sessions",
}
SELECT = "+stg_shop__orders +stg_shop__order_lines +stg_web__sessions"


def write_earlier_files(final_dir: Path, earlier_dir: Path, increment_days: int) -> dict:
    """Write the raw files as they stood ``increment_days`` before the last arrival.

    Returns, per incremental table, the rows of the final files and of the increment.
    """
    earlier_dir.mkdir(parents=True)
    counts = {}
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        cutoff = connection.execute(
            f"select max(dated_at) - interval {increment_days} days "
            f"from ({arrival_sql(final_dir, 'orders')}) where dated_at < now()"
        ).fetchall()[0][0]
        for path in final_dir.glob("*.parquet"):
            if path.stem not in INCREMENTAL_TABLES:
                shutil.copy(path, earlier_dir / path.name)
        for table in INCREMENTAL_TABLES:
            rows = f"select * from ({arrival_sql(final_dir, table)})"
            total, later = connection.execute(
                f"select count(*), count(*) filter (where arrives_at > ?) from ({rows})", [cutoff]
            ).fetchall()[0]
            counts[table] = {"rows": total, "increment": later}
            connection.execute(
                f"copy (select * exclude (dated_at, arrives_at, position) from ({rows}) "
                f"where arrives_at <= ? order by position) "
                f"to '{earlier_dir / f'{table}.parquet'}' (format parquet)",
                [cutoff],
            )
    counts["cutoff"] = cutoff
    return counts


def build(raw_dir: Path, database: Path, work_dir: Path) -> dict[str, float]:
    """Run dbt on the staging layer; return the seconds of each base model and of all nodes."""
    target_path = work_dir / "target"
    run_dbt(
        ["build", "--select", SELECT, "--exclude-resource-type", "test", "unit_test"],
        target="test",
        env={
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir),
            "SEGMENT_WAREHOUSE_TEST_DB": str(database),
        },
        target_path=target_path,
        log_path=work_dir / "logs",
    )
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    seconds = {
        result["unique_id"].rsplit(".", 1)[-1]: result["execution_time"] for result in results
    }
    timings = {table: seconds[model] for table, model in BASE_MODELS.items()}
    timings["all nodes"] = sum(seconds.values())
    return timings


def differing_rows(first: Path, second: Path) -> dict[str, int]:
    """Rows of each base table that are in one database and not in the other (``except all``)."""
    with duckdb.connect() as connection:
        connection.execute(f"attach '{first}' as first_db (read_only)")
        connection.execute(f"attach '{second}' as second_db (read_only)")
        differing = {}
        for table, model in BASE_MODELS.items():
            one, other = f"first_db.staging.{model}", f"second_db.staging.{model}"
            differing[table] = connection.execute(
                f"select (select count(*) from (from {one} except all from {other})) "
                f"+ (select count(*) from (from {other} except all from {one}))"
            ).fetchall()[0][0]
        return differing


def render(
    customers: int,
    increment_days: int,
    counts: dict,
    runs: dict[str, dict[str, float]],
    command: str,
    started: datetime,
) -> str:
    """Markdown for the incremental section."""
    full, increment, unchanged = runs["full"], runs["increment"], runs["unchanged"]
    lines = [
        f"Measured by `{command}` on {started:%Y-%m-%d}: {platform.machine()}, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}. {customers:,} demo "
        f"customers (seed 42), the orders, order lines and web sessions in arrival order; the "
        f"increment is every row that arrived after {counts['cutoff']:%Y-%m-%d %H:%M} UTC, "
        f"{increment_days} days before the latest order date (the rows dated since, and late "
        "rows dated earlier). `full` builds the final files from "
        "scratch; `increment` is an incremental run on them after a first build on the "
        "earlier files; `nothing new` runs again on the same files. Seconds are each model's "
        "execution time from dbt's run_results.json (dbt build `--select "
        f"{SELECT}`, seeds included, no tests); `all nodes` adds up every node of the "
        "command (the customers and products base models, seeds and views included). "
        "The base tables of the incremental and the full "
        "warehouse were compared row by row and are identical.",
        "",
        "| table | raw rows | increment rows | full s | increment s | nothing new s "
        "| full / increment |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for table in [*INCREMENTAL_TABLES, "all nodes"]:
        raw = f"{counts[table]['rows']:,}" if table in counts else ""
        new = f"{counts[table]['increment']:,}" if table in counts else ""
        lines.append(
            f"| {'`' + BASE_MODELS[table] + '`' if table in BASE_MODELS else table} | {raw} "
            f"| {new} | {full[table]:.1f} | {increment[table]:.1f} | {unchanged[table]:.1f} "
            f"| {full[table] / increment[table]:.1f}x |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    """Build both warehouses, compare them and write the ``incremental`` section."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help=f"demo customers to generate (default {DEFAULT_CUSTOMERS:,})",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument(
        "--increment-days",
        type=int,
        default=7,
        help="the increment: rows that arrived after the latest date minus this (default 7)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_DIR / "BENCHMARKS.md",
        help="Markdown file whose incremental section to replace (default BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="benchmark-incremental-") as work:
        work_dir = Path(work)
        generate(work_dir / "demo", customers=args.customers, seed=args.seed)
        final_dir = work_dir / "demo" / "raw"
        arrange_in_arrival_order(final_dir)
        counts = write_earlier_files(final_dir, work_dir / "earlier", args.increment_days)
        print(f"generated {args.customers:,} customers; increment: {counts}", flush=True)

        incremental_db = work_dir / "incremental.duckdb"
        full_db = work_dir / "full.duckdb"
        runs = {"first": build(work_dir / "earlier", incremental_db, work_dir)}
        runs["increment"] = build(final_dir, incremental_db, work_dir)
        runs["unchanged"] = build(final_dir, incremental_db, work_dir)
        runs["full"] = build(final_dir, full_db, work_dir)
        for name, timings in runs.items():
            print(name, {key: round(value, 2) for key, value in timings.items()}, flush=True)
        differing = differing_rows(incremental_db, full_db)
        if any(differing.values()):
            sys.exit(f"incremental and full differ: rows in only one of them {differing}")

    command = shlex.join(["python", "scripts/benchmark_incremental.py", *argv])
    markdown = render(args.customers, args.increment_days, counts, runs, command, started)
    write_section(args.output, SECTION, SECTION_HEADING, markdown)
    print(markdown)
    print(f"wrote the {SECTION} section of {args.output}")


if __name__ == "__main__":
    main()
