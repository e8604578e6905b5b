"""Measure demo-data generation and ``dbt build`` at several sizes; write BENCHMARKS.md.

Every size is generated, then built into its own DuckDB file with the dev profile, each
step in a child process whose peak resident memory is read with ``os.wait4``. Figures from
one run are compared as ratios (seconds per million rows, time growth against data growth),
which survive a noisy machine better than absolute seconds.

    python scripts/benchmark.py                       # 100k and 1M customers
    python scripts/benchmark.py --sizes 10000 100000  # quicker
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import re
import shutil
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segment_warehouse.pipeline.measure import CommandRun, run_command

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
# a section other scripts maintain (`<!-- name:start -->` … `<!-- name:end -->`, as
# segment_warehouse.documentation.readme writes them), with the `## ` heading line right before it
MARKED_SECTION = re.compile(
    r"^(?:## [^\n]*\n(?:[ \t]*\n)*)?<!-- ([\w.-]+):start -->.*?<!-- \1:end -->[ \t]*$",
    re.MULTILINE | re.DOTALL,
)


@dataclass
class SizeResult:
    """Everything measured for one dataset size."""

    customers: int
    raw_rows: dict[str, int] = field(default_factory=dict)
    generate: CommandRun | None = None
    build: CommandRun | None = None
    slowest_models: list[tuple[str, float]] = field(default_factory=list)
    model_seconds: dict[str, float] = field(default_factory=dict)
    segment_seconds: float = 0.0
    value_seconds: float = 0.0
    database_mib: float = 0.0
    mart_rows: dict[str, int] = field(default_factory=dict)


def measure_size(customers: int, work_dir: Path, seed: int) -> SizeResult:
    """Generate and build one size; collect timings, memory and row counts."""
    result = SizeResult(customers=customers)
    data_dir = work_dir / f"data_{customers}"
    database = work_dir / f"warehouse_{customers}.duckdb"
    target_dir = work_dir / f"target_{customers}"
    for path in (data_dir, target_dir):
        shutil.rmtree(path, ignore_errors=True)
    database.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SEGMENT_WAREHOUSE_DB": str(database),
        "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(data_dir / "raw"),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_USE_COLORS": "false",
    }
    result.generate = run_command(
        [
            sys.executable,
            "-m",
            "segment_warehouse.cli",
            "demo-data",
            "--customers",
            str(customers),
            "--seed",
            str(seed),
            "--out",
            str(data_dir),
        ],
        env,
        work_dir / f"generate_{customers}.log",
        PROJECT_DIR,
    )
    result.build = run_command(
        [str(BIN_DIR / "dbt"), "build", "--target", "dev", "--target-path", str(target_dir)],
        env,
        work_dir / f"build_{customers}.log",
        PROJECT_DIR,
    )
    run_results = json.loads((target_dir / "run_results.json").read_text())["results"]
    model_times = [
        (item["unique_id"].split(".")[-1], item["execution_time"])
        for item in run_results
        if item["unique_id"].startswith("model.")
    ]
    result.slowest_models = sorted(model_times, key=lambda pair: -pair[1])[:6]
    result.segment_seconds = layer_seconds(target_dir, run_results, "segments")
    result.value_seconds = layer_seconds(target_dir, run_results, "value")
    result.model_seconds = dict(model_times)
    result.database_mib = database.stat().st_size / 2**20
    with duckdb.connect(str(database), read_only=True) as connection:
        for row in connection.sql(
            "select table_name, raw_rows from marts.raw_row_reconciliation"
        ).fetchall():
            result.raw_rows[row[0]] = row[1]
        for mart in (
            "dim_customers",
            "fct_orders",
            "quarantined_rows",
            "customer_segment_assignments",
        ):
            count_query = f"select count(*) from marts.{mart}"
            result.mart_rows[mart] = connection.sql(count_query).fetchall()[0][0]
    shutil.rmtree(data_dir, ignore_errors=True)
    database.unlink(missing_ok=True)
    return result


def layer_seconds(target_dir: Path, run_results: list[dict], folder: str) -> float:
    """Seconds spent on one layer, summed over nodes.

    The layer is the models under ``models/*/<folder>/`` and the data and unit tests on
    them. Nodes run two at a time, so this is work, not wall time.
    """
    manifest = json.loads((target_dir / "manifest.json").read_text())
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    layer_models = {
        unique_id
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and f"/{folder}/" in node["original_file_path"]
    }

    def in_layer(unique_id: str) -> bool:
        if unique_id in layer_models:
            return True
        node = nodes.get(unique_id, {})
        parents = set(node.get("depends_on", {}).get("nodes", []))
        return node.get("resource_type") in {"test", "unit_test"} and bool(parents & layer_models)

    return sum(item["execution_time"] for item in run_results if in_layer(item["unique_id"]))


def render(results: list[SizeResult], started: datetime) -> str:
    """Render the measurements as Markdown."""
    lines = [
        "# Benchmarks",
        "",
        "Measured by `make benchmark` (`scripts/benchmark.py`) in one run on "
        f"{started:%Y-%m-%d}: {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"DuckDB {duckdb.__version__}. Each size is generated with the demo generator "
        "(seed 42, 1 % bad rows) and built with `dbt build --target dev` (all models, seeds, "
        "data tests and unit tests) into a fresh DuckDB file. Peak memory is the child "
        "process's maximum resident set size. Absolute seconds vary between machines and "
        "runs; the ratios between rows of one run are the figures to compare.",
        "",
        "| customers | raw rows | order lines | generate s | build s | build s per M raw rows "
        "| generate peak MiB | build peak MiB | warehouse MiB |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for result in results:
        raw_total = sum(result.raw_rows.values())
        assert result.generate is not None and result.build is not None
        lines.append(
            f"| {result.customers:,} | {raw_total:,} | {result.raw_rows.get('order_lines', 0):,} "
            f"| {result.generate.seconds:.1f} | {result.build.seconds:.1f} "
            f"| {result.build.seconds / (raw_total / 1e6):.1f} "
            f"| {result.generate.peak_rss_mib:,.0f} | {result.build.peak_rss_mib:,.0f} "
            f"| {result.database_mib:,.0f} |"
        )
    lines.append("")
    if len(results) > 1:
        lines.append("## Scaling")
        lines.append("")
        lines.append(
            "| from → to | data factor | generate time factor | build time factor "
            "| build memory factor |"
        )
        lines.append("| --- | --- | --- | --- | --- |")
        for smaller, larger in itertools.pairwise(results):
            assert smaller.build and larger.build and smaller.generate and larger.generate
            data_ratio = sum(larger.raw_rows.values()) / sum(smaller.raw_rows.values())
            lines.append(
                f"| {smaller.customers:,} → {larger.customers:,} | {data_ratio:.1f} "
                f"| {larger.generate.seconds / smaller.generate.seconds:.1f} "
                f"| {larger.build.seconds / smaller.build.seconds:.1f} "
                f"| {larger.build.peak_rss_mib / smaller.build.peak_rss_mib:.1f} |"
            )
        lines.append("")
        lines.append(
            "A build-time factor below the data factor means fixed costs (dbt start-up, "
            "parsing, seeds, the many small tests) still weigh at the smaller size; one above "
            "it means the build outgrew DuckDB's memory limit (2.5 GB by default, "
            "`SEGMENT_WAREHOUSE_MEMORY_LIMIT`) and sorted and joined partly on disk."
        )
        lines.append("")
    lines.append("## Segment layer")
    lines.append("")
    lines.append(
        "Models under `models/*/segments/` (features, the registry families, reasons, "
        "micro-segments, summary, lifecycle, RFM) and the data and unit tests on them, "
        "summed over nodes (two run at once, so this is work rather than wall time)."
    )
    lines.append("")
    lines.append("| customers | segment layer s | share of build | assignment rows |")
    lines.append("| --- | --- | --- | --- |")
    for result in results:
        assert result.build is not None
        lines.append(
            f"| {result.customers:,} | {result.segment_seconds:.1f} "
            f"| {result.segment_seconds / result.build.seconds:.0%} "
            f"| {result.mart_rows.get('customer_segment_assignments', 0):,} |"
        )
    lines.append("")
    lines.append("## Value layer")
    lines.append("")
    lines.append(
        "Models under `models/*/value/` (CLV summary, the BG/NBD and Gamma-Gamma fits and "
        "predictions, churn features, the churn classifier's evaluation and scoring, the "
        "backtest) and the tests on them, summed over nodes; then the Python models alone."
    )
    lines.append("")
    python_models = {
        "int_clv_models_fitted": "fit s",
        "int_customer_clv_predicted": "predict s",
        "int_churn_models_evaluated": "churn evaluation s",
        "int_customer_churn_scored": "churn scoring s",
    }
    lines.append(
        "| customers | value layer s | share of build | "
        + " | ".join(python_models.values())
        + " |"
    )
    lines.append("| --- | --- | --- |" + " --- |" * len(python_models))
    for result in results:
        assert result.build is not None
        cells = " | ".join(f"{result.model_seconds.get(name, 0):.1f}" for name in python_models)
        lines.append(
            f"| {result.customers:,} | {result.value_seconds:.1f} "
            f"| {result.value_seconds / result.build.seconds:.0%} | {cells} |"
        )
    lines.append("")
    largest = results[-1]
    lines.append(f"## Where the time goes at {largest.customers:,} customers")
    lines.append("")
    lines.append("| model | seconds | share of build |")
    lines.append("| --- | --- | --- |")
    assert largest.build is not None
    for name, seconds in largest.slowest_models:
        lines.append(f"| `{name}` | {seconds:.1f} | {seconds / largest.build.seconds:.0%} |")
    lines.append("")
    lines.append(f"## Rows at {largest.customers:,} customers")
    lines.append("")
    lines.append("| table | rows |")
    lines.append("| --- | --- |")
    for name, rows in sorted(largest.raw_rows.items()):
        lines.append(f"| raw `{name}` | {rows:,} |")
    for name, rows in largest.mart_rows.items():
        lines.append(f"| `marts.{name}` | {rows:,} |")
    lines.append("")
    return "\n".join(lines)


def marked_sections(text: str) -> str:
    """Return the marked sections of ``text``, each with its heading, to append to a render."""
    sections = [match.group(0) for match in MARKED_SECTION.finditer(text)]
    return "".join(f"\n{section}\n" for section in sections)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write BENCHMARKS.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR / "data" / "benchmark")
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for customers in sorted(args.sizes):
        print(f"benchmark: {customers:,} customers …", flush=True)
        result = measure_size(customers, args.work_dir, args.seed)
        assert result.build is not None
        print(f"  build {result.build.seconds:.1f} s, peak {result.build.peak_rss_mib:,.0f} MiB")
        results.append(result)
    kept = marked_sections(args.output.read_text()) if args.output.exists() else ""
    args.output.write_text(render(results, started) + kept)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
