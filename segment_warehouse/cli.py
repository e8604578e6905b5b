"""The ``segment-warehouse`` command: one console script with a subcommand per task.

::

    segment-warehouse [--project-dir DIR] COMMAND [options]

The project is the directory given with ``--project-dir``, else the first directory
holding dbt_project.yml from the working directory up (:mod:`segment_warehouse.paths`);
every path (warehouse, published copy, demo data, target/) is taken from it, never from
where the package is installed. ``segment-warehouse COMMAND --help`` describes a command.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from segment_warehouse import __version__
from segment_warehouse.paths import (
    ProjectNotFoundError,
    ProjectPaths,
    project_paths,
    use_project_dir,
)

PROG = "segment-warehouse"
COMMANDS = {
    "build": "generate the demo data if needed, then dbt build into the warehouse",
    "refresh": "the scheduled job: build as of a date, record history and runs, publish",
    "backfill": "the scheduled job over a range of dates, in order",
    "check": "validate raw files against the contract (loader, staging, gates; no marts)",
    "report": "write the HTML segment report from the published marts",
    "docs": "dbt's static docs site (target/static_index.html)",
    "bi": "Apache Superset with the Customer segments dashboard (--stop stops it)",
    "demo-data": "generate the demo data (raw files and planted ground truth); --if-needed",
}
DEMO_CUSTOMERS = 100_000
DEMO_SEED = 42


def _top_parser() -> argparse.ArgumentParser:
    width = max(len(name) for name in COMMANDS)
    listing = "\n".join(f"  {name:<{width}}  {text}" for name, text in COMMANDS.items())
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Build, check, refresh and publish the segment warehouse (a dbt project on "
            "DuckDB). Run in the project directory or pass --project-dir."
        ),
        epilog=f"commands:\n{listing}\n\n'{PROG} COMMAND --help' describes a command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        help="the dbt project (default: the directory holding dbt_project.yml, from the "
        "working directory up)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("command", choices=list(COMMANDS), metavar="COMMAND")
    return parser


def _split(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    """Split argv into the global options and command, and the command's own arguments."""
    argv = list(argv)
    for position, token in enumerate(argv):
        if token in COMMANDS:
            return argv[: position + 1], argv[position + 1 :]
        if token == "--project-dir":
            continue
        if position > 0 and argv[position - 1] == "--project-dir":
            continue
        if not token.startswith("-"):
            break
    return argv, []


# ---- build and demo data ------------------------------------------------------------------


def _demo_fingerprint() -> str:
    """Hash the generator's code: the demo data is regenerated when it changes."""
    digest = hashlib.sha256()
    for path in sorted((Path(__file__).parent / "demo").glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_demo_data(project: ProjectPaths, customers: int, seed: int, *, force: bool) -> bool:
    """Generate the demo data unless the stamp says it is current; return whether it ran."""
    from segment_warehouse.demo.generator import generate

    stamp = project.demo_dir / f".generated-{customers}-{seed}"
    fingerprint = _demo_fingerprint()
    if not force and stamp.exists() and stamp.read_text().strip() == fingerprint:
        return False
    for old in project.demo_dir.glob(".generated-*"):
        old.unlink()
    print(f"generating demo data: {customers:,} customers, seed {seed} -> {project.demo_dir}")
    counts = generate(project.demo_dir, customers=customers, seed=seed)
    for name, rows in counts.items():
        print(f"  {name:<20} {rows:>12,}")
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(fingerprint + "\n")
    return True


def _dbt_with_progress(
    project: ProjectPaths, args: list[str], *, target: str, variables: dict, title: str
) -> int:
    from segment_warehouse.pipeline.dbt_runner import dbt_command
    from segment_warehouse.pipeline.progress import run_with_progress

    command = dbt_command(
        args, target=target, target_path=project.target_dir, variables=variables, project=project
    )
    env = {**os.environ, **project.dbt_env(), "DBT_USE_COLORS": "false"}
    return run_with_progress(command, cwd=str(project.root), env=env, title=title)


def _vars(text: str) -> dict:
    variables = json.loads(text)
    if not isinstance(variables, dict):
        raise SystemExit(f"{PROG}: error: --vars must be a JSON object; got {text!r}")
    return variables


def cmd_build(argv: list[str], project: ProjectPaths) -> int:
    """``build``: demo data when the raw data is the demo's, then dbt build with progress."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} build",
        description=(
            "Build the warehouse: generate the demo data when the raw data is the demo's and "
            "it is missing or stale, then dbt build (models and tests) with a progress "
            f"display. Writes {project.warehouse}."
        ),
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=int(os.environ.get("DEMO_CUSTOMERS", DEMO_CUSTOMERS)),
        help=f"demo customers (default $DEMO_CUSTOMERS or {DEMO_CUSTOMERS})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=int(os.environ.get("DEMO_SEED", DEMO_SEED)),
        help=f"demo seed (default {DEMO_SEED})",
    )
    parser.add_argument(
        "--raw-data-dir",
        type=Path,
        help="your own raw files instead of the demo data ($SEGMENT_WAREHOUSE_RAW_DATA_DIR)",
    )
    parser.add_argument("--target", default="dev", help="dbt target (default dev)")
    parser.add_argument("--vars", default="{}", help="extra dbt vars as JSON")
    parser.add_argument("--full-refresh", action="store_true", help="dbt build --full-refresh")
    args = parser.parse_args(argv)
    variables = _vars(args.vars)
    if args.raw_data_dir is not None:
        raw = project.resolve(args.raw_data_dir)
        os.environ["SEGMENT_WAREHOUSE_RAW_DATA_DIR"] = str(raw)
    elif project.raw_data_dir == project.demo_dir / "raw":
        ensure_demo_data(project, args.customers, args.seed, force=False)
    project.warehouse.parent.mkdir(parents=True, exist_ok=True)
    dbt_args = ["build", *(["--full-refresh"] if args.full_refresh else [])]
    return _dbt_with_progress(
        project, dbt_args, target=args.target, variables=variables, title="build"
    )


def cmd_demo_data(argv: list[str], project: ProjectPaths) -> int:
    """``demo-data``: the generator's own command line, writing into the project by default.

    With ``--if-needed [--customers N] [--seed S]`` the demo data is generated only when it
    is missing or stale (other customers or seed, or a changed generator), as ``build`` does.
    """
    from segment_warehouse.demo.generator import main

    if "--if-needed" in argv:
        parser = argparse.ArgumentParser(prog=f"{PROG} demo-data --if-needed")
        parser.add_argument("--if-needed", action="store_true")
        parser.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
        parser.add_argument("--seed", type=int, default=DEMO_SEED)
        args = parser.parse_args(argv)
        if not ensure_demo_data(project, args.customers, args.seed, force=False):
            print(f"demo data in {project.demo_dir} is current")
        return 0
    plain = argparse.ArgumentParser(add_help=False)
    plain.add_argument("--customers", type=int, default=DEMO_CUSTOMERS)
    plain.add_argument("--seed", type=int, default=DEMO_SEED)
    plain.add_argument("--out", type=Path, default=project.demo_dir)
    known, others = plain.parse_known_args(argv)
    if not others and project.resolve(known.out) == project.demo_dir:
        # the project's demo data: stamped, so that build does not generate it again
        ensure_demo_data(project, known.customers, known.seed, force=True)
        return 0
    if "--out" not in argv and not any(arg.startswith("--out=") for arg in argv):
        argv = [*argv, "--out", str(project.demo_dir)]
    if "-h" in argv or "--help" in argv:
        try:
            return main(argv, prog=f"{PROG} demo-data")
        finally:
            print(
                f"\n{PROG} demo-data --if-needed [--customers N] [--seed S]: generate the "
                "project's demo data only when it is missing or stale (what build does)."
            )
    return main(argv, prog=f"{PROG} demo-data")


# ---- the scheduled job ----------------------------------------------------------------------


def cmd_refresh(argv: list[str], project: ProjectPaths) -> int:
    """``refresh``: the scheduled job (:mod:`segment_warehouse.pipeline.job`)."""
    from segment_warehouse.pipeline.job import main

    return main(argv, prog=f"{PROG} refresh")


def cmd_backfill(argv: list[str], project: ProjectPaths) -> int:
    """``backfill FROM TO``: the scheduled job's backfill, every --step from FROM to TO."""
    from segment_warehouse.pipeline.job import main

    if not argv or argv[0] in {"-h", "--help"}:
        print(
            f"usage: {PROG} backfill FROM TO [--step day|week|month] [refresh options]\n\n"
            "Replay the scheduled job for every --step from FROM to TO (YYYY-MM-DD), in "
            "order, stopping at the first failure; the segment history is rebuilt from FROM.\n"
            f"Every option of '{PROG} refresh' applies (see '{PROG} refresh --help')."
        )
        return 0 if argv else 2
    if len(argv) < 2 or argv[1].startswith("-"):
        print(f"{PROG} backfill: error: give FROM and TO dates", file=sys.stderr)
        return 2
    return main(["--backfill", argv[0], argv[1], *argv[2:]], prog=f"{PROG} backfill")


# ---- check ----------------------------------------------------------------------------------


def cmd_check(argv: list[str], project: ProjectPaths) -> int:
    """``check``: the loader, staging and gates on raw files; a table of what they found."""
    from segment_warehouse.pipeline.check import render_table, run_check

    parser = argparse.ArgumentParser(
        prog=f"{PROG} check",
        description=(
            "Validate raw files against the data contract without building the marts: the "
            "project's loader, staging models and data-quality gates run into a throwaway "
            "DuckDB file, then print per table the rows read, staged and quarantined, the top "
            "quarantine reasons and the verdict. Exit 1 when a gate fails or the files cannot "
            "be loaded (the message names the file)."
        ),
    )
    parser.add_argument(
        "raw_data_dir",
        nargs="?",
        type=Path,
        help="directory of raw files (default $SEGMENT_WAREHOUSE_RAW_DATA_DIR or the demo data)",
    )
    parser.add_argument("--vars", default="{}", help="extra dbt vars as JSON (e.g. read options)")
    args = parser.parse_args(argv)
    raw = project.resolve(args.raw_data_dir) if args.raw_data_dir else project.raw_data_dir
    if not raw.is_dir():
        print(f"{PROG} check: error: {raw} is not a directory", file=sys.stderr)
        return 2
    result = run_check(project, raw, extra_vars=_vars(args.vars))
    print(render_table(result), end="")
    return 0 if result.passed else 1


# ---- report, docs, BI -----------------------------------------------------------------------


def cmd_report(argv: list[str], project: ProjectPaths) -> int:
    """``report``: the HTML segment report of the published marts."""
    from segment_warehouse.bi.report import ReportError, write_report

    parser = argparse.ArgumentParser(
        prog=f"{PROG} report",
        description=(
            "Write the segment report: one self-contained HTML page of charts over the "
            "published marts that BI tools read (run refresh first)."
        ),
    )
    parser.add_argument(
        "--published", type=Path, default=project.published, help="published DuckDB file"
    )
    parser.add_argument("--output", type=Path, default=project.report, help="HTML file to write")
    args = parser.parse_args(argv)
    try:
        output, charts = write_report(project.resolve(args.published), project.resolve(args.output))
    except ReportError as error:
        print(f"{PROG} report: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({len(charts)} charts)")
    return 0


def cmd_docs(argv: list[str], project: ProjectPaths) -> int:
    """``docs``: dbt docs generate --static."""
    parser = argparse.ArgumentParser(
        prog=f"{PROG} docs",
        description="Generate dbt's static docs site, one file: target/static_index.html.",
    )
    parser.add_argument("--target", default="dev", help="dbt target (default dev)")
    args = parser.parse_args(argv)
    code = _dbt_with_progress(
        project, ["docs", "generate", "--static"], target=args.target, variables={}, title="docs"
    )
    if code == 0:
        print(f"docs site: {project.target_dir / 'static_index.html'}")
    return code


def cmd_bi(argv: list[str], project: ProjectPaths) -> int:
    """``bi``: Superset with the dashboard (:mod:`segment_warehouse.bi.superset`)."""
    from segment_warehouse.bi.superset import main

    return main(argv, prog=f"{PROG} bi")


HANDLERS: dict[str, Callable[[list[str], ProjectPaths], int]] = {
    "build": cmd_build,
    "refresh": cmd_refresh,
    "backfill": cmd_backfill,
    "check": cmd_check,
    "report": cmd_report,
    "docs": cmd_docs,
    "bi": cmd_bi,
    "demo-data": cmd_demo_data,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``segment-warehouse`` console script; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    head, rest = _split(argv)
    args = _top_parser().parse_args(head)
    try:
        use_project_dir(args.project_dir)
        project = project_paths()
    except ProjectNotFoundError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    return HANDLERS[args.command](rest, project)


if __name__ == "__main__":
    sys.exit(main())
