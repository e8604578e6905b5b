"""Measure the peak memory and wall time of a full ``dbt build``; write BENCHMARKS.md.

The demo generator writes ``--customers`` customers (seed ``--seed``), or ``--raw-dir``
points at raw files already generated; ``dbt build --target dev`` (every model, seed, data
test and unit test) builds them into a fresh DuckDB file with the project's defaults,
DuckDB's memory limit included (``SEGMENT_WAREHOUSE_MEMORY_LIMIT`` when set, else the
profile's default). The peak is the dbt process's maximum resident set size (``os.wait4``);
its resident set is also read from ``/proc`` every second, and each sample is put against
the nodes running at that moment (run_results.json's execution times), so the section
names the nodes during which the build was largest. The result replaces the ``memory``
section of BENCHMARKS.md.

    python scripts/benchmark_memory.py                                # 1,000,000 demo customers
    python scripts/benchmark_memory.py --raw-dir /tmp/d1m/demo/raw    # data already generated
    python scripts/benchmark_memory.py --customers 20000 --output /tmp/BENCHMARKS.md
    SEGMENT_WAREHOUSE_MEMORY_LIMIT=10GB python scripts/benchmark_memory.py \
        --customers 10000000 --raw-dir /tmp/d10m/raw --threads 1 --output /tmp/B10M.md
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from segment_warehouse.documentation.readme import write_section

PROJECT_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
SECTION = "memory"
SECTION_HEADING = "## Peak memory of a full build"
DEFAULT_CUSTOMERS = 1_000_000
TARGET_MIB = 4 * 1024
"""The goal up to 1M customers: a full build within 4 GiB."""
LARGE_TARGET_MIB = 24 * 1024
"""The goal beyond 1M customers (10M): a full build completing within 24 GiB."""
TOP_NODES = 8


@dataclass
class BuildRun:
    """Wall time, peak memory and the resident set over time of one dbt build."""

    seconds: float
    peak_rss_mib: float
    samples: list[tuple[float, float]] = field(default_factory=list)
    node_peaks: list[tuple[str, float, float]] = field(default_factory=list)
    purchasers: int = 0


def resident_mib(pid: int) -> float | None:
    """Return the resident set size of process ``pid`` in MiB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def sample_resident(pid: int, samples: list[tuple[float, float]], done: threading.Event) -> None:
    """Append (epoch seconds, resident MiB) of ``pid`` every second until ``done``."""
    while not done.wait(1.0):
        rss = resident_mib(pid)
        if rss is not None:
            samples.append((time.time(), rss))


def node_peaks(run_results: dict, samples: list[tuple[float, float]]) -> list:
    """Return (node, seconds, highest resident MiB while it ran), highest first."""
    peaks = []
    for result in run_results["results"]:
        execute = [step for step in result.get("timing", []) if step["name"] == "execute"]
        if not execute or not execute[0].get("started_at"):
            continue
        started = datetime.fromisoformat(execute[0]["started_at"].replace("Z", "+00:00"))
        completed = datetime.fromisoformat(execute[0]["completed_at"].replace("Z", "+00:00"))
        during = [
            rss
            for at, rss in samples
            if started.timestamp() - 0.5 <= at <= completed.timestamp() + 0.5
        ]
        if during:
            name = result["unique_id"].split(".", 2)[-1]
            peaks.append((name, result["execution_time"], max(during)))
    return sorted(peaks, key=lambda peak: -peak[2])


def build(raw_dir: Path, work_dir: Path, threads: int | None = None) -> BuildRun:
    """Run the full ``dbt build`` into a fresh warehouse; sample its memory.

    ``threads`` overrides the profile's dbt threads (nodes run side by side).
    """
    database = work_dir / "warehouse.duckdb"
    target_dir = work_dir / "target"
    for stale in (database, database.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    env = {
        **os.environ,
        "SEGMENT_WAREHOUSE_DB": str(database),
        "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir),
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_USE_COLORS": "false",
    }
    command = [
        str(BIN_DIR / "dbt"),
        "build",
        "--target",
        "dev",
        "--target-path",
        str(target_dir),
        "--log-path",
        str(work_dir / "logs"),
        *(("--threads", str(threads)) if threads else ()),
    ]
    log = work_dir / "build.log"
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    with log.open("w") as log_file:
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=PROJECT_DIR, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        sampler = threading.Thread(target=sample_resident, args=(process.pid, samples, done))
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        done.set()
        sampler.join()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{shlex.join(command)} failed; see {log}:\n{log.read_text()[-3000:]}")
    run = BuildRun(seconds=seconds, peak_rss_mib=usage.ru_maxrss / 1024, samples=samples)
    run.node_peaks = node_peaks(json.loads((target_dir / "run_results.json").read_text()), samples)
    with duckdb.connect(str(database), read_only=True) as connection:
        run.purchasers = connection.sql(
            "select count(*) from intermediate.int_customer_clv_summary"
        ).fetchall()[0][0]
    return run


def render(
    customers: int,
    memory_limit: str,
    run: BuildRun,
    command: str,
    started: datetime,
    threads: int | None = None,
) -> str:
    """Markdown for the memory section."""
    goal_mib = TARGET_MIB if customers <= DEFAULT_CUSTOMERS else LARGE_TARGET_MIB
    verdict = "within" if run.peak_rss_mib <= goal_mib else "above"
    thread_count = threads or "the profile's"
    lines = [
        f"Measured by `{command}` on {started:%Y-%m-%d}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, DuckDB "
        f"{duckdb.__version__}. {customers:,} demo customers (seed 42; {run.purchasers:,} "
        "purchasers) built with `dbt build --target dev` (every model, seed, data test and "
        f"unit test) into a fresh DuckDB file, DuckDB's memory limit {memory_limit}, "
        f"{thread_count} dbt thread{'' if threads == 1 else 's'}. Peak "
        "memory is the dbt process's maximum resident set size (`os.wait4`): DuckDB's "
        "buffers, the Python models' frames and the interpreter with its libraries "
        "together. The nodes are those running when the resident set, read every second, "
        "was highest (with more than one thread a node's figure includes its neighbours').",
        "",
        "| customers | memory limit | wall s | peak MiB | goal MiB | |",
        "| --- | --- | --- | --- | --- | --- |",
        f"| {customers:,} | {memory_limit} | {run.seconds:.0f} | {run.peak_rss_mib:,.0f} "
        f"| {goal_mib:,} | {verdict} |",
        "",
        "| node | seconds | highest resident MiB while it ran |",
        "| --- | --- | --- |",
    ]
    for name, seconds, rss in run.node_peaks[:TOP_NODES]:
        lines.append(f"| `{name}` | {seconds:.1f} | {rss:,.0f} |")
    return "\n".join(lines) + "\n"


def profile_memory_limit() -> str:
    """Return the memory limit the build runs with: the environment's, else the profile's."""
    if os.environ.get("SEGMENT_WAREHOUSE_MEMORY_LIMIT"):
        return os.environ["SEGMENT_WAREHOUSE_MEMORY_LIMIT"]
    profile = (PROJECT_DIR / "profiles" / "profiles.yml").read_text()
    marker = "env_var('SEGMENT_WAREHOUSE_MEMORY_LIMIT', '"
    start = profile.index(marker) + len(marker)
    return profile[start : profile.index("'", start)] + " (the profile's default)"


def main(argv: list[str] | None = None) -> None:
    """Build once, measure, and write the ``memory`` section."""
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
        "--raw-dir",
        type=Path,
        help="raw files of --customers demo customers already generated (not generated again)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        help="dbt threads, nodes run side by side (default: the profile's)",
    )
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep the warehouse, dbt's logs and target here (default: a temporary directory)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_DIR / "BENCHMARKS.md",
        help="Markdown file whose memory section to replace (default BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    with contextlib.ExitStack() as stack:
        if args.work_dir:
            work_dir = args.work_dir
            work_dir.mkdir(parents=True, exist_ok=True)
        else:
            work_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="benchmark-")))
        raw_dir = args.raw_dir
        if raw_dir is None:
            subprocess.run(
                [
                    *(sys.executable, "-m", "segment_warehouse.cli", "demo-data"),
                    *("--customers", str(args.customers), "--seed", str(args.seed)),
                    *("--out", str(work_dir / "demo")),
                ],
                check=True,
                cwd=PROJECT_DIR,
            )
            raw_dir = work_dir / "demo" / "raw"
        run = build(raw_dir, work_dir, args.threads)
    print(f"build {run.seconds:.1f} s, peak {run.peak_rss_mib:,.0f} MiB", flush=True)
    command = shlex.join(["python", "scripts/benchmark_memory.py", *argv])
    markdown = render(args.customers, profile_memory_limit(), run, command, started, args.threads)
    write_section(args.output, SECTION, SECTION_HEADING, markdown)
    print(markdown)
    print(f"wrote the {SECTION} section of {args.output}")


if __name__ == "__main__":
    main()
