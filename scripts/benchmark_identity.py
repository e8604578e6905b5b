"""Time identity resolution on demo data; check it against the planted truth; write BENCHMARKS.md.

Generates the demo data (seed 42), builds the staging models the identity models read,
then runs the identity models (models/intermediate/identity, with the erasure models that
sit between them) twice on that warehouse: deterministic rules only
(``identity.probabilistic: false``), then with probabilistic matching. Each run is one dbt
process, waited for with wait4, so its peak resident memory is its own (dbt, DuckDB and
the splink model all run inside it). Seconds per model come from dbt's run_results.json.
The reference in the same run is the staging the identity models read (every parent of
models/intermediate/identity that does not itself read an identity model): the ratios
identity / staging are the figures to compare across machines.

Quality is measured on the generator's ground truth (``ground_truth/identity.parquet``):
pairwise precision and recall over every staged record, leaving out the devices whose
owner never logged in on them (no rule can link those).

    python scripts/benchmark_identity.py                      # 1,000,000 customers
    python scripts/benchmark_identity.py --customers 100000 --output /tmp/BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segment_warehouse.demo.generator import generate
from segment_warehouse.documentation.readme import write_section
from segment_warehouse.pipeline.dbt_runner import dbt_command
from segment_warehouse.pipeline.measure import run_command, run_in_child

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECTION = "identity"
SECTION_HEADING = "## Identity resolution"
DEFAULT_CUSTOMERS = 1_000_000
IDENTITY = "path:models/intermediate/identity"
# what identity resolution reads, and what it runs: the models between identity models (the
# erasure requests matched to linked records, whose erased records identity then reads)
# belong to it, so "staging" leaves out every descendant of an identity model
STAGING_SELECT = ["--select", f"+{IDENTITY}", "--exclude", f"{IDENTITY}+"]
IDENTITY_SELECT = ["--select", f"+{IDENTITY},{IDENTITY}+"]


@dataclass(frozen=True)
class Run:
    """One dbt process: wall seconds, peak resident memory and each model's seconds."""

    seconds: float
    peak_rss_mib: float
    model_seconds: dict[str, float]


def run_dbt_measured(
    select: list[str], variables: dict, raw_dir: Path, work_dir: Path, name: str
) -> Run:
    """Run ``dbt build --select select`` (seeds and models, no tests) in its own process."""
    target_path = work_dir / f"target_{name}"
    command = dbt_command(
        ["build", *select, "--exclude-resource-type", "test", "unit_test"],
        target="test",
        target_path=target_path,
        variables=variables,
    )
    env = {
        **os.environ,
        "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir),
        "SEGMENT_WAREHOUSE_TEST_DB": str(work_dir / "warehouse.duckdb"),
        "PYTHONPATH": str(PROJECT_DIR),
    }
    measured = run_command(command, env, work_dir / f"{name}.log", PROJECT_DIR)
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    model_seconds = {
        result["unique_id"].rsplit(".", 1)[-1]: result["execution_time"]
        for result in results
        if result["unique_id"].startswith(("model.", "seed."))
    }
    return Run(measured.seconds, measured.peak_rss_mib, model_seconds)


def quality(database: Path, truth: Path) -> dict[str, float]:
    """Count records, customers, links and passes; score pairs against the planted truth."""
    with duckdb.connect(str(database), read_only=True) as connection:
        connection.execute(
            f"""
            create temp table resolved as
            select truth.person_id, truth.planted, resolved.customer_id, resolved.source
            from read_parquet('{truth}') as truth
            inner join intermediate.int_identity_records_resolved as resolved
                using (source, source_customer_id)
            where coalesce(truth.planted, '') <> 'never_logged_in'
            """
        )

        def pairs(keys: str) -> int:
            return connection.sql(
                f"select coalesce(sum(n * (n - 1) // 2), 0) from "
                f"(select count(*) as n from resolved group by {keys})"
            ).fetchall()[0][0]

        both, predicted, true = (
            pairs("person_id, customer_id"),
            pairs("customer_id"),
            pairs("person_id"),
        )
        counts = connection.sql(
            """
            select
                count(*) as records,
                count(distinct customer_id) filter (where is_customer) as customers,
                (
                    select count(*) from intermediate.int_identity_links_proposed
                    where is_accepted
                ) as links,
                (select max(iteration_count) from intermediate.int_identity_components) as passes
            from intermediate.int_identity_records_resolved
            """
        ).fetchall()[0]
    return {
        "records": counts[0],
        "customers": counts[1],
        "links": counts[2],
        "passes": counts[3] or 0,
        "precision": both / predicted if predicted else 1.0,
        "recall": both / true if true else 1.0,
    }


def render(
    customers: int, runs: dict[str, Run], checks: dict[str, dict], command: str, started: datetime
) -> str:
    """Render the identity section of BENCHMARKS.md."""
    staging = runs["staging"]
    staging_seconds = sum(staging.model_seconds.values())
    lines = [
        f"Measured by `{command}` on {started:%Y-%m-%d}: {platform.machine()}, Python "
        f"{platform.python_version()}, DuckDB {duckdb.__version__}. {customers:,} demo customers "
        "(seed 42). `staging` builds every model the identity models read (customers, orders, "
        "store transactions, web sessions, seeds); the two identity rows run "
        "models/intermediate/identity and the erasure models between its models on that "
        "warehouse, deterministic rules alone and then "
        "with splink. Seconds are dbt's per-model execution times summed; peak memory is the "
        "dbt process's maximum resident set size; the ratio is identity seconds over staging "
        "seconds of the same run. Precision and recall are pairwise over every staged record "
        "against the generator's planted people, devices never logged in on left out.",
        "",
        "| run | model s | wall s | peak MiB | / staging | records | customers | links | passes "
        "| precision | recall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        f"| staging | {staging_seconds:.1f} | {staging.seconds:.1f} | "
        f"{staging.peak_rss_mib:,.0f} | 1.00x |  |  |  |  |  |  |",
    ]
    for name, label in (
        ("deterministic", "identity, deterministic"),
        ("probabilistic", "identity, with splink"),
    ):
        run, check = runs[name], checks[name]
        model_seconds = sum(run.model_seconds.values())
        lines.append(
            f"| {label} | {model_seconds:.1f} | {run.seconds:.1f} | {run.peak_rss_mib:,.0f} | "
            f"{model_seconds / staging_seconds:.2f}x | {check['records']:,} | "
            f"{check['customers']:,} | {check['links']:,} | {check['passes']} | "
            f"{check['precision']:.4f} | {check['recall']:.4f} |"
        )
    slowest = sorted(runs["probabilistic"].model_seconds.items(), key=lambda item: -item[1])[:4]
    lines += [
        "",
        "Slowest identity models (with splink): "
        + ", ".join(f"`{name}` {seconds:.1f} s" for name, seconds in slowest)
        + ".",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Generate, build staging, run identity twice, check quality, write the section."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=DEFAULT_CUSTOMERS)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=PROJECT_DIR / "BENCHMARKS.md")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="benchmark-identity-") as work:
        work_dir = Path(work)
        # in a child process: a process's peak memory (ru_maxrss) starts from what its parent
        # held when it started it, and the generator's frames would be every dbt run's floor
        run_in_child(generate, work_dir / "demo", args.customers, args.seed)
        raw_dir, truth = (
            work_dir / "demo" / "raw",
            work_dir / "demo" / "ground_truth" / "identity.parquet",
        )
        runs, checks = {}, {}
        runs["staging"] = run_dbt_measured(
            STAGING_SELECT,
            {"identity.probabilistic": False},
            raw_dir,
            work_dir,
            "staging",
        )
        for name, probabilistic in (("deterministic", False), ("probabilistic", True)):
            runs[name] = run_dbt_measured(
                IDENTITY_SELECT,
                {"identity.probabilistic": probabilistic},
                raw_dir,
                work_dir,
                name,
            )
            checks[name] = quality(work_dir / "warehouse.duckdb", truth)
            print(name, runs[name], checks[name], flush=True)

    command = shlex.join(["python", "scripts/benchmark_identity.py", *argv])
    markdown = render(args.customers, runs, checks, command, started)
    write_section(args.output, SECTION, SECTION_HEADING, markdown)
    print(markdown)
    print(f"wrote the {SECTION} section of {args.output}")


if __name__ == "__main__":
    main()
