"""Time the behavioural clustering against plain k-means on every row; write BENCHMARKS.md.

Ours is exactly what the dbt model ``int_cluster_model`` does with the project's defaults
(dbt_project.yml vars and the model's ``N_INIT``): ``usable_features``, ``fit_scaling`` and
``scale``, ``choose_k`` over the candidate ks on a selection sample with silhouettes on a
smaller one, ``fit_kmeans`` on a larger sample, then ``assign`` for every customer. The
comparison is scikit-learn's ``KMeans`` with the k ours chose and the same restarts,
fitted on all rows of the same scaled matrix and then predicting all rows. Each runs once,
in its own forked process, so that its wall time and peak resident memory are its own.
Both clusterings are then compared on all rows: inertia (sum of squared distances to the
nearest centroid) and the adjusted Rand index between the two labelings.

The feature table is the real one: by default the demo generator writes ``--customers``
customers (seed ``--seed``) to a temporary directory and dbt builds
``int_customer_cluster_features`` and what it needs (no tests) into a temporary DuckDB
file; ``--database`` reads the table of a built warehouse instead. Where the generator's
ground truth is at hand, both clusterings are also compared with the planted personas
(adjusted Rand index over the accounts that are not duplicate identities). The results
replace the ``cluster-fit`` section of BENCHMARKS.md.

    python scripts/benchmark_clusters.py                      # 1,000,000 demo customers
    python scripts/benchmark_clusters.py --customers 50000 --output /tmp/BENCHMARKS.md
    python scripts/benchmark_clusters.py --database warehouse/segment_warehouse.duckdb \
        --ground-truth data/demo/ground_truth
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segment_warehouse.demo.generator import generate
from segment_warehouse.documentation.readme import write_section
from segment_warehouse.documentation.registry import load_project_vars
from segment_warehouse.modelling import clustering
from segment_warehouse.pipeline import measure
from segment_warehouse.pipeline.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_PATH = PROJECT_DIR / "models" / "intermediate" / "clusters" / "int_cluster_model.py"
SECTION = "cluster-fit"
SECTION_HEADING = "## Clustering"
DEFAULT_CUSTOMERS = 1_000_000


# ---- the feature table ------------------------------------------------------------------


@dataclass(frozen=True)
class FeatureTable:
    """The customers' cluster features, their planted personas (if known) and origin.

    ``planted`` follows the rows of ``frame``: the persona, or None for an account that is
    a duplicate identity of a person (left out of the comparison).
    """

    frame: pd.DataFrame
    planted: np.ndarray | None
    description: str


def build_demo_features(customers: int, seed: int, work_dir: Path) -> tuple[Path, Path]:
    """Generate demo data and build the feature model; return the database and ground truth."""
    started = time.perf_counter()
    generate(work_dir / "demo", customers=customers, seed=seed)
    print(f"generated {customers:,} customers in {time.perf_counter() - started:.0f} s")
    database = work_dir / "warehouse.duckdb"
    started = time.perf_counter()
    run_dbt(
        [
            "build",
            "--select",
            "+int_customer_cluster_features",
            "--exclude-resource-type",
            "test",
            "unit_test",
        ],
        target="test",
        variables={"raw.data_dir": str(work_dir / "demo" / "raw")},
        env={"SEGMENT_WAREHOUSE_TEST_DB": str(database)},
        target_path=work_dir / "target",
        log_path=work_dir / "logs",
    )
    print(f"built the features in {time.perf_counter() - started:.0f} s", flush=True)
    return database, work_dir / "demo" / "ground_truth"


def read_features(
    database: Path, candidates: tuple[str, ...], ground_truth: Path | None = None
) -> FeatureTable:
    """Read ``intermediate.int_customer_cluster_features`` of a built warehouse, read-only.

    Ordered by customer_id, as the model reads it, so that the samples are the model's.
    With ``ground_truth`` (the generator's folder), each row gets its planted persona.
    """
    columns = ", ".join(f'"{name}"' for name in ("customer_id", *candidates))
    with duckdb.connect(str(database), read_only=True) as connection:
        frame = connection.sql(
            f"select {columns} from intermediate.int_customer_cluster_features order by customer_id"
        ).df()
    description = f"the `int_customer_cluster_features` of {len(frame):,} purchasers"
    planted = None
    if ground_truth is not None:
        labels = pd.read_parquet(
            ground_truth / "customer_labels.parquet",
            columns=["customer_id", "persona", "is_duplicate_identity"],
        )
        labelled = frame[["customer_id"]].merge(
            labels, on="customer_id", how="left", validate="one_to_one"
        )
        keep = labelled["persona"].notna() & ~labelled["is_duplicate_identity"].fillna(True)
        planted = np.where(keep, labelled["persona"], None)
    return FeatureTable(frame.drop(columns="customer_id"), planted, description)


# ---- the two clusterings ----------------------------------------------------------------


@dataclass(frozen=True)
class ModelSettings:
    """The dbt model's settings: dbt_project.yml's vars and the model's restarts."""

    candidates: tuple[str, ...]
    k_range: range
    fixed_k: int | None
    seed: int
    sample_size: int
    selection_sample_size: int
    silhouette_sample_size: int
    n_init: int
    winsor_quantile: float


def model_settings(project_dir: Path = PROJECT_DIR) -> ModelSettings:
    """Return the settings ``int_cluster_model`` runs with by default."""
    variables = load_project_vars(project_dir)
    spec = importlib.util.spec_from_file_location("int_cluster_model", MODEL_PATH)
    assert spec is not None and spec.loader is not None
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    fixed_k = variables.get("clusters.k")
    return ModelSettings(
        candidates=tuple(variables["clusters.features"]),
        k_range=range(int(variables["clusters.k_min"]), int(variables["clusters.k_max"]) + 1),
        fixed_k=int(fixed_k) if fixed_k not in (None, "", "None") else None,
        seed=int(variables["clusters.random_seed"]),
        sample_size=int(variables["clusters.sample_size"]),
        selection_sample_size=int(variables["clusters.selection_sample_size"]),
        silhouette_sample_size=int(variables["clusters.silhouette_sample_size"]),
        n_init=int(model.N_INIT),
        winsor_quantile=float(variables["clusters.winsor_quantile"]),
    )


@dataclass(frozen=True)
class Clustering:
    """One clustering of every customer, with its timed steps."""

    features: tuple[str, ...]
    centroids: np.ndarray
    labels: np.ndarray
    seconds: dict[str, float]
    selections: tuple[clustering.KSelection, ...] = ()
    n_iter: int | None = None

    @property
    def k(self) -> int:
        """Return the number of clusters."""
        return len(self.centroids)

    @property
    def total_seconds(self) -> float:
        """Return the seconds of all steps."""
        return sum(self.seconds.values())


def scaled_points(
    frame: pd.DataFrame, settings: ModelSettings
) -> tuple[tuple[str, ...], np.ndarray]:
    """Return the usable features and the scaled matrix, as the model computes them."""
    used = clustering.usable_features(frame, settings.candidates)
    scaling = clustering.fit_scaling(frame, used, settings.winsor_quantile)
    return used, clustering.scale(frame, scaling)


def cluster_ours(table: FeatureTable, settings: ModelSettings) -> Clustering:
    """Cluster as ``int_cluster_model`` does: choose k on samples, fit a sample, assign all."""
    start = time.perf_counter()
    used, points = scaled_points(table.frame, settings)
    scaled = time.perf_counter()
    selections, k = clustering.choose_k(
        points,
        settings.k_range,
        settings.seed,
        settings.selection_sample_size,
        settings.silhouette_sample_size,
        n_init=settings.n_init,
        fixed_k=settings.fixed_k,
    )
    chosen = time.perf_counter()
    fit = clustering.fit_kmeans(
        points, k, settings.seed, settings.sample_size, n_init=settings.n_init
    )
    fitted = time.perf_counter()
    labels = clustering.assign(points, fit.centroids)
    end = time.perf_counter()
    return Clustering(
        features=used,
        centroids=fit.centroids,
        labels=labels,
        seconds={
            "scale": scaled - start,
            "choose_k": chosen - scaled,
            "fit": fitted - chosen,
            "assign": end - fitted,
        },
        selections=tuple(selections),
    )


def cluster_plain(table: FeatureTable, settings: ModelSettings, k: int) -> Clustering:
    """Fit scikit-learn's ``KMeans`` with ``k`` clusters on every row, then predict every row."""
    start = time.perf_counter()
    used, points = scaled_points(table.frame, settings)
    scaled = time.perf_counter()
    model = KMeans(n_clusters=k, n_init=settings.n_init, random_state=settings.seed)
    model.fit(points)
    fitted = time.perf_counter()
    labels = model.predict(points)
    end = time.perf_counter()
    return Clustering(
        features=used,
        centroids=np.asarray(model.cluster_centers_, dtype=float),
        labels=np.asarray(labels, dtype=np.int64),
        seconds={"scale": scaled - start, "fit": fitted - scaled, "assign": end - fitted},
        n_iter=int(model.n_iter_),
    )


@dataclass(frozen=True)
class Run:
    """One clustering measured in its own child process."""

    clustering: Clustering
    start_rss_mib: float
    peak_rss_mib: float


def run_in_child(cluster: Callable[..., Clustering], *args: Any) -> Run:
    """Run one clustering in a forked child; return its result, its starting and peak RSS."""
    child = measure.run_in_child(cluster, *args)
    return Run(
        clustering=child.result,
        start_rss_mib=child.start_rss_mib,
        peak_rss_mib=child.peak_rss_mib,
    )


# ---- comparison -------------------------------------------------------------------------


def inertia(points: np.ndarray, centroids: np.ndarray, chunk_rows: int = 65_536) -> float:
    """Return the sum over all points of the squared distance to the nearest centroid."""
    total = 0.0
    for start in range(0, len(points), chunk_rows):
        chunk = points[start : start + chunk_rows]
        total += float(clustering.squared_distances(chunk, centroids).min(axis=1).sum())
    return total


def matched_agreement(labels: np.ndarray, other: np.ndarray) -> float:
    """Return the share of rows in the same cluster once the clusters are paired one to one."""
    rows, columns = int(labels.max()) + 1, int(other.max()) + 1
    counts = np.bincount(labels * columns + other, minlength=rows * columns)
    contingency = counts.reshape(rows, columns)
    pairs = linear_sum_assignment(-contingency)
    return float(contingency[pairs].sum() / len(labels))


@dataclass(frozen=True)
class Comparison:
    """How the two clusterings compare on every row."""

    ours_inertia: float
    plain_inertia: float
    adjusted_rand: float
    agreement: float
    ours_planted_rand: float | None
    plain_planted_rand: float | None


def compare(table: FeatureTable, settings: ModelSettings, ours: Run, plain: Run) -> Comparison:
    """Evaluate both clusterings on every row of the scaled matrix."""
    _, points = scaled_points(table.frame, settings)
    mine, theirs = ours.clustering, plain.clustering
    ours_planted = plain_planted = None
    if table.planted is not None:
        known = np.array([persona is not None for persona in table.planted])
        planted = table.planted[known].astype(str)
        ours_planted = float(adjusted_rand_score(planted, mine.labels[known]))
        plain_planted = float(adjusted_rand_score(planted, theirs.labels[known]))
    return Comparison(
        ours_inertia=inertia(points, mine.centroids),
        plain_inertia=inertia(points, theirs.centroids),
        adjusted_rand=float(adjusted_rand_score(mine.labels, theirs.labels)),
        agreement=matched_agreement(mine.labels, theirs.labels),
        ours_planted_rand=ours_planted,
        plain_planted_rand=plain_planted,
    )


# ---- report -----------------------------------------------------------------------------


def versions() -> str:
    """Return the versions of the libraries that do the work."""
    return measure.library_versions(("numpy", "pandas", "scipy", "scikit-learn"))


def render(
    table: FeatureTable,
    settings: ModelSettings,
    ours: Run,
    plain: Run,
    comparison: Comparison,
    command: str,
    started: datetime,
) -> str:
    """Render the measurements as the Markdown of the ``cluster-fit`` section."""
    mine, theirs = ours.clustering, plain.clustering
    customers = len(table.frame)
    ks = f"{settings.k_range.start}-{settings.k_range.stop - 1}"
    selection = (
        f"`choose_k` fits k = {ks} on {min(settings.selection_sample_size, customers):,} rows "
        f"and scores each by silhouette on {min(settings.silhouette_sample_size, customers):,}"
        if settings.fixed_k is None
        else f"k is fixed at {settings.fixed_k} (var `clusters.k`)"
    )
    final_rows = min(settings.sample_size, customers)
    same_k_ratio = (theirs.seconds["fit"] + theirs.seconds["assign"]) / (
        mine.seconds["fit"] + mine.seconds["assign"]
    )
    lines = [
        f"Measured by `{command}` on {started:%Y-%m-%d}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}, {versions()}. "
        f"Both cluster {table.description}, scaled alike (`usable_features`, `fit_scaling`, "
        f"`scale`: {len(mine.features)} features used). Ours is what `int_cluster_model` "
        f"runs with the project's defaults: {selection}, then `fit_kmeans` with the chosen k "
        f"on a {final_rows:,}-row sample and `assign` for every customer; k-means is "
        f"scikit-learn's with {settings.n_init} k-means++ restarts (seed {settings.seed}). "
        f"Plain is scikit-learn's `KMeans(n_clusters={mine.k}, n_init={settings.n_init}, "
        f"random_state={settings.seed})`, given the k ours chose, fitted on all "
        f"{customers:,} rows and then `predict` on all of them. Each runs once, in its own "
        "forked process, with scikit-learn's default threads (all cores); seconds are wall "
        "time, peak memory is the process's maximum resident set size, including what it "
        "starts with (the inherited feature table, interpreter and libraries). "
        "Inertia is the sum over all customers of the squared distance to the nearest "
        "centroid (ours: centroids fitted on the sample); the adjusted Rand index compares "
        "the two labelings of every customer (1 = the same partition), and the matched "
        "agreement is the share of customers in the same cluster once the clusters are "
        "paired one to one.",
        "",
        "| step | ours s | plain KMeans s |",
        "| --- | --- | --- |",
        f"| scale ({customers:,} rows) | {mine.seconds['scale']:.2f} "
        f"| {theirs.seconds['scale']:.2f} |",
        f"| choose k ({len(mine.selections)} candidates) | {mine.seconds['choose_k']:.2f} | — |",
        f"| fit k = {mine.k} (ours {final_rows:,} rows, plain {customers:,}; plain took "
        f"{theirs.n_iter} iterations) | {mine.seconds['fit']:.2f} | {theirs.seconds['fit']:.2f} |",
        f"| assign every customer | {mine.seconds['assign']:.2f} "
        f"| {theirs.seconds['assign']:.2f} |",
        f"| total | {mine.total_seconds:.2f} | {theirs.total_seconds:.2f} |",
        "",
        f"Plain KMeans / ours: {theirs.total_seconds / mine.total_seconds:.2g}x in total, "
        f"{same_k_ratio:.2g}x for the fit and assignment at the same k (ours without "
        f"choosing k). Peak memory: ours {ours.peak_rss_mib:,.0f} MiB, plain "
        f"{plain.peak_rss_mib:,.0f} MiB (starting from {ours.start_rss_mib:,.0f} and "
        f"{plain.start_rss_mib:,.0f} MiB).",
        "",
        "| | k | inertia on all customers | vs plain |",
        "| --- | --- | --- | --- |",
        f"| ours | {mine.k} | {comparison.ours_inertia:,.0f} "
        f"| {comparison.ours_inertia / comparison.plain_inertia - 1:+.2%} |",
        f"| plain KMeans | {theirs.k} | {comparison.plain_inertia:,.0f} | |",
        "",
        f"Agreement between the two labelings: adjusted Rand index "
        f"{comparison.adjusted_rand:.3f}, matched agreement {comparison.agreement:.1%}.",
    ]
    if comparison.ours_planted_rand is not None:
        lines[-1] += (
            f" Against the {len(set(table.planted) - {None})} planted personas (accounts "
            "that are not duplicate identities): adjusted Rand index "
            f"{comparison.ours_planted_rand:.3f} (ours), "
            f"{comparison.plain_planted_rand:.3f} (plain)."
        )
    if mine.selections:
        scores = ", ".join(
            f"{selection.k}: {selection.silhouette:.3f}" for selection in mine.selections
        )
        lines.append(f"Silhouette by k (ours chose {mine.k}): {scores}.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run both clusterings on one feature table and write the ``cluster-fit`` section."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--customers",
        type=int,
        default=DEFAULT_CUSTOMERS,
        help=f"demo customers to generate and build features for (default {DEFAULT_CUSTOMERS:,})",
    )
    source.add_argument(
        "--database",
        type=Path,
        help="read intermediate.int_customer_cluster_features from this DuckDB warehouse instead",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the demo data")
    parser.add_argument(
        "--ground-truth",
        type=Path,
        help="with --database: the generator's ground_truth folder, to compare with personas",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_DIR / "BENCHMARKS.md",
        help="Markdown file whose cluster-fit section to replace (default BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    settings = model_settings()
    with tempfile.TemporaryDirectory(prefix="benchmark-clusters-") as work_dir:
        if args.database is not None:
            table = read_features(args.database, settings.candidates, args.ground_truth)
        else:
            database, truth = build_demo_features(args.customers, args.seed, Path(work_dir))
            table = read_features(database, settings.candidates, truth)
            table = FeatureTable(
                table.frame,
                table.planted,
                f"{table.description} built by dbt from {args.customers:,} demo customers "
                f"(seed {args.seed})",
            )
    print(f"features: {len(table.frame):,} customers", flush=True)
    ours = run_in_child(cluster_ours, table, settings)
    print(f"ours: k = {ours.clustering.k}, {ours.clustering.total_seconds:.2f} s", flush=True)
    plain = run_in_child(cluster_plain, table, settings, ours.clustering.k)
    print(f"plain KMeans: {plain.clustering.total_seconds:.2f} s", flush=True)
    comparison = compare(table, settings, ours, plain)
    command = shlex.join(["python", "scripts/benchmark_clusters.py", *argv])
    markdown = render(table, settings, ours, plain, comparison, command, started)
    write_section(args.output, SECTION, SECTION_HEADING, markdown)
    print(markdown)
    print(f"wrote the {SECTION} section of {args.output}")


if __name__ == "__main__":
    main()
