"""Time probabilistic identity matching at several sizes: wall time, peak memory, quality.

Runs exactly what the dbt model ``int_identity_probabilistic_matches`` runs,
``identity_matching.match_records`` with the project's threshold (var
``identity.match_threshold``) and seed, each size in its own forked process, so that its
wall time and peak resident memory are its own (the synthetic frame, made before the fork,
is in the starting memory, which is printed too). The candidates are synthetic
(``identity_matching.synthetic_records``: people with planted duplicates, namesakes and
family members, five per cent of fields missing), so precision and recall against the
planted pairs are printed beside the timings; ``--database`` reads
``int_identity_match_candidates`` from a built warehouse instead (no planted truth).

    python scripts/benchmark_identity_matching.py                    # 100k and 1M rows
    python scripts/benchmark_identity_matching.py --rows 20000
    python scripts/benchmark_identity_matching.py --database warehouse/segment_warehouse.duckdb
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from segment_warehouse.documentation.registry import load_project_vars
from segment_warehouse.modelling import identity_matching
from segment_warehouse.pipeline import measure

PROJECT_DIR = Path(__file__).resolve().parent.parent
# rows per synthetic person: one record, plus the planted duplicates, namesakes and family
ROWS_PER_PERSON = 1 + 0.05 + 0.01 + 0.01


@dataclass(frozen=True)
class Outcome:
    """What one matching run returned, measured in the child."""

    seconds: float
    pairs: int
    skipped_reason: str | None
    found: dict[str, int]


def run_matching(records: pd.DataFrame, planted: pd.DataFrame | None, threshold: float) -> Outcome:
    """Match ``records`` as the dbt model does; count found pairs by planted kind."""
    start = time.perf_counter()
    result = identity_matching.match_records(records, threshold=threshold)
    seconds = time.perf_counter() - start
    found: dict[str, int] = {}
    if planted is not None:
        kinds = result.pairs.merge(planted, on=["record_key_l", "record_key_r"], how="left")
        found = kinds["kind"].fillna("unplanted").value_counts().to_dict()
    return Outcome(seconds, len(result.pairs), result.skipped_reason, found)


def report(label: str, rows: int, child: measure.ChildRun, planted: pd.DataFrame | None) -> None:
    """Print one size's figures."""
    outcome: Outcome = child.result
    print(f"\n{label}: {rows:,} candidate rows")
    print(f"  wall time       {outcome.seconds:,.1f} s")
    print(
        f"  peak RSS        {child.peak_rss_mib:,.0f} MiB (started at {child.start_rss_mib:,.0f})"
    )
    if outcome.skipped_reason:
        print(f"  skipped         {outcome.skipped_reason}")
        return
    print(f"  pairs           {outcome.pairs:,}")
    if planted is not None:
        duplicates = int((planted["kind"] == "probabilistic_only").sum())
        true_pairs = outcome.found.get("probabilistic_only", 0)
        precision = true_pairs / outcome.pairs if outcome.pairs else float("nan")
        print(f"  precision       {precision:.4f} (pairs that are planted duplicates)")
        print(f"  recall          {true_pairs / duplicates:.4f} of {duplicates:,} duplicates")
        print(
            f"  trap pairs      namesake {outcome.found.get('namesake', 0)}, "
            f"family {outcome.found.get('family', 0)}"
        )


def main() -> None:
    """Parse arguments, build or read each frame, measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[100_000, 1_000_000], help="candidate rows"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the synthetic people")
    parser.add_argument(
        "--database",
        type=Path,
        help="a built warehouse: match its intermediate.int_identity_match_candidates",
    )
    arguments = parser.parse_args()
    threshold = float(load_project_vars(PROJECT_DIR)["identity.match_threshold"])
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{measure.library_versions(('splink', 'duckdb', 'pandas'))}; threshold {threshold}"
    )
    if arguments.database:
        with duckdb.connect(str(arguments.database), read_only=True) as connection:
            records = connection.execute(
                "select * from intermediate.int_identity_match_candidates order by record_key"
            ).df()
        child = measure.run_in_child(run_matching, records, None, threshold)
        report(str(arguments.database), len(records), child, None)
        return
    for rows in arguments.rows:
        start = time.perf_counter()
        synthetic = identity_matching.synthetic_records(
            round(rows / ROWS_PER_PERSON), seed=arguments.seed
        )
        made = time.perf_counter() - start
        child = measure.run_in_child(run_matching, synthetic.records, synthetic.planted, threshold)
        report(
            f"synthetic ({made:.1f} s to make)", len(synthetic.records), child, synthetic.planted
        )


if __name__ == "__main__":
    main()
