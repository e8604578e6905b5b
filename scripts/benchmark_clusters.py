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

The feature table is simulated by default: like ``int_customer_cluster_features`` (ten
features: log recency, frequency, spend, tenure and average order value; discount, refund,
holiday and store shares of the orders; top-category spend share with some nulls), drawn
with a fixed seed from a mixture of planted behavioural groups. ``--database`` reads the
table of a built warehouse instead. The results replace the ``cluster-fit`` section of
BENCHMARKS.md.

    python scripts/benchmark_clusters.py                      # 1,000,000 simulated customers
    python scripts/benchmark_clusters.py --customers 50000 --output /tmp/BENCHMARKS.md
    python scripts/benchmark_clusters.py --database warehouse/segment_warehouse.duckdb
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segment_warehouse import clustering, measure
from segment_warehouse.readme import write_section
from segment_warehouse.registry import load_project_vars

PROJECT_DIR = Path(__file__).resolve().parent.parent
MODEL_PATH = PROJECT_DIR / "models" / "intermediate" / "clusters" / "int_cluster_model.py"
SECTION = "cluster-fit"
SECTION_HEADING = "## Clustering"
DEFAULT_CUSTOMERS = 1_000_000
MAX_TENURE_DAYS = 3 * 365
TOP_CATEGORY_NULL_SHARE = 0.08
TOP_CATEGORY_MIN_SHARE = 0.12


# ---- the feature table ------------------------------------------------------------------


@dataclass(frozen=True)
class PlantedGroup:
    """One behavioural group of the simulation; (a, b) pairs are Beta distributions."""

    name: str
    weight: float
    extra_orders: float  # orders = 1 + Poisson(extra_orders)
    recency_days: float  # mean days since the last order (exponential, at most the tenure)
    first_tenure_days: int  # tenure is uniform from this to MAX_TENURE_DAYS
    log_order_value: float  # mean of the customer's log average order value
    discount: tuple[float, float]
    refund: tuple[float, float]
    holiday: tuple[float, float]
    store: tuple[float, float]
    top_category: tuple[float, float]


# the demo generator's personas among purchasers, roughly in its proportions
PLANTED_GROUPS = (
    PlantedGroup("regular", 0.42, 7.0, 80, 300, 4.95, (2, 4), (0.5, 10), (2, 6), (0.3, 5), (2, 6)),
    PlantedGroup("lapsed", 0.17, 3.5, 450, 500, 4.85, (2, 3), (0.8, 8), (2, 6), (0.3, 5), (2, 5)),
    PlantedGroup("one-time", 0.15, 0.0, 0, 1, 4.75, (1, 2), (0.3, 8), (1, 3), (0.3, 3), (2, 3)),
    PlantedGroup("discount", 0.09, 5.0, 90, 300, 4.55, (9, 1.5), (2, 6), (2, 5), (0.3, 5), (2, 6)),
    PlantedGroup(
        "holiday", 0.07, 2.5, 200, 400, 5.3, (2, 3), (0.5, 8), (9, 1.2), (0.3, 6), (1.5, 4)
    ),
    PlantedGroup(
        "in-store", 0.08, 8.0, 40, 300, 4.35, (1.5, 5), (0.3, 12), (1.5, 6), (20, 0.6), (4, 3)
    ),
    PlantedGroup("vip", 0.02, 20.0, 15, 600, 5.8, (1, 6), (0.5, 10), (2, 6), (0.5, 3), (2, 5)),
)


@dataclass(frozen=True)
class FeatureTable:
    """The customers' cluster features, their planted groups (if simulated) and origin."""

    frame: pd.DataFrame
    planted: np.ndarray | None
    description: str


def simulate_features(customers: int, seed: int) -> FeatureTable:
    """Draw a feature table like ``int_customer_cluster_features`` from the planted groups.

    Per customer: a group; orders 1 + Poisson; tenure uniform in days; days since the last
    order exponential, at most the tenure and equal to it for a single order; an average
    order value log-normal; discount, refund, holiday and store orders binomial with a
    Beta-drawn probability (so shares are multiples of 1 / orders); net spend the orders'
    value less part of the refunded share; the top category's spend share a Beta above
    0.12 (1 for some single orders) and null for 8 % (no order lines).
    """
    rng = np.random.default_rng(seed)
    weights = np.array([group.weight for group in PLANTED_GROUPS])
    planted = rng.choice(len(PLANTED_GROUPS), customers, p=weights / weights.sum())

    def per_customer(attribute: str) -> np.ndarray:
        values = np.array([getattr(group, attribute) for group in PLANTED_GROUPS], dtype=float)
        return values[planted]

    def beta(attribute: str) -> np.ndarray:
        return rng.beta(per_customer(attribute)[:, 0], per_customer(attribute)[:, 1])

    def share(attribute: str) -> np.ndarray:
        return rng.binomial(orders, beta(attribute)) / orders

    orders = 1 + rng.poisson(per_customer("extra_orders"))
    first = per_customer("first_tenure_days")
    tenure = np.floor(first + rng.random(customers) * (MAX_TENURE_DAYS + 1 - first))
    recency = np.minimum(
        np.round(rng.exponential(np.maximum(per_customer("recency_days"), 1))), tenure
    )
    recency = np.where(orders == 1, tenure, recency)
    average_order_value = np.exp(rng.normal(per_customer("log_order_value"), 0.45))
    refunded = share("refund")
    net_spend = orders * average_order_value * (1 - refunded * rng.uniform(0.6, 1.0, customers))
    top_category = TOP_CATEGORY_MIN_SHARE + (1 - TOP_CATEGORY_MIN_SHARE) * beta("top_category")
    top_category = np.where((orders == 1) & (rng.random(customers) < 0.3), 1.0, top_category)
    top_category = np.where(rng.random(customers) < TOP_CATEGORY_NULL_SHARE, np.nan, top_category)
    frame = pd.DataFrame(
        {
            "log_days_since_last_order": np.log1p(recency),
            "log_order_count": np.log1p(orders),
            "log_net_spend": np.log1p(np.maximum(net_spend, 0)),
            "log_tenure_days": np.log1p(tenure),
            "log_average_order_value": np.log1p(average_order_value),
            "discount_order_share": share("discount"),
            "refunded_order_share": refunded,
            "holiday_order_share": share("holiday"),
            "store_order_share": share("store"),
            "top_category_spend_share": top_category,
        }
    )
    groups = ", ".join(f"{group.name} {group.weight:.0%}" for group in PLANTED_GROUPS)
    description = (
        f"a simulated `int_customer_cluster_features` of {customers:,} customers (seed "
        f"{seed}): the ten features drawn from {len(PLANTED_GROUPS)} planted behavioural "
        f"groups ({groups}); orders 1 + Poisson, shares binomial over the orders, "
        f"{TOP_CATEGORY_NULL_SHARE:.0%} of top-category shares null"
    )
    return FeatureTable(frame, planted, description)


def read_features(database: Path, candidates: tuple[str, ...]) -> FeatureTable:
    """Read ``intermediate.int_customer_cluster_features`` of a built warehouse, read-only.

    Ordered by customer_id, as the model reads it, so that the samples are the model's.
    """
    import duckdb

    columns = ", ".join(f'"{name}"' for name in candidates)
    with duckdb.connect(str(database), read_only=True) as connection:
        frame = connection.sql(
            f"select {columns} from intermediate.int_customer_cluster_features order by customer_id"
        ).df()
    description = (
        f"the `intermediate.int_customer_cluster_features` of `{database.name}` "
        f"({len(frame):,} customers)"
    )
    return FeatureTable(frame, None, description)


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


def model_settings(project_dir: Path = PROJECT_DIR) -> ModelSettings:
    """Return the settings ``int_cluster_model`` runs with by default."""
    variables = load_project_vars(project_dir)
    spec = importlib.util.spec_from_file_location("int_cluster_model", MODEL_PATH)
    assert spec is not None and spec.loader is not None
    model = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(model)
    fixed_k = variables.get("cluster_k")
    return ModelSettings(
        candidates=tuple(variables["cluster_features"]),
        k_range=range(int(variables["cluster_k_min"]), int(variables["cluster_k_max"]) + 1),
        fixed_k=int(fixed_k) if fixed_k not in (None, "", "None") else None,
        seed=int(variables["cluster_random_seed"]),
        sample_size=int(variables["cluster_sample_size"]),
        selection_sample_size=int(variables["cluster_selection_sample_size"]),
        silhouette_sample_size=int(variables["cluster_silhouette_sample_size"]),
        n_init=int(model.N_INIT),
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
    frame: pd.DataFrame, candidates: tuple[str, ...]
) -> tuple[tuple[str, ...], np.ndarray]:
    """Return the usable features and the scaled matrix, as the model computes them."""
    used = clustering.usable_features(frame, candidates)
    scaling = clustering.fit_scaling(frame, used)
    return used, clustering.scale(frame, scaling)


def cluster_ours(table: FeatureTable, settings: ModelSettings) -> Clustering:
    """Cluster as ``int_cluster_model`` does: choose k on samples, fit a sample, assign all."""
    start = time.perf_counter()
    used, points = scaled_points(table.frame, settings.candidates)
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
    used, points = scaled_points(table.frame, settings.candidates)
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
    _, points = scaled_points(table.frame, settings.candidates)
    mine, theirs = ours.clustering, plain.clustering
    planted = table.planted
    return Comparison(
        ours_inertia=inertia(points, mine.centroids),
        plain_inertia=inertia(points, theirs.centroids),
        adjusted_rand=float(adjusted_rand_score(mine.labels, theirs.labels)),
        agreement=matched_agreement(mine.labels, theirs.labels),
        ours_planted_rand=None if planted is None else adjusted_rand_score(planted, mine.labels),
        plain_planted_rand=None if planted is None else adjusted_rand_score(planted, theirs.labels),
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
        else f"k is fixed at {settings.fixed_k} (var `cluster_k`)"
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
            f" Against the {len(PLANTED_GROUPS)} planted groups: adjusted Rand index "
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
        help=f"customers in the simulated feature table (default {DEFAULT_CUSTOMERS:,})",
    )
    source.add_argument(
        "--database",
        type=Path,
        help="read intermediate.int_customer_cluster_features from this DuckDB warehouse instead",
    )
    parser.add_argument("--seed", type=int, default=42, help="seed of the simulated table")
    parser.add_argument(
        "--output",
        type=Path,
        default=PROJECT_DIR / "BENCHMARKS.md",
        help="Markdown file whose cluster-fit section to replace (default BENCHMARKS.md)",
    )
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    settings = model_settings()
    if args.database is not None:
        table = read_features(args.database, settings.candidates)
    else:
        table = simulate_features(args.customers, args.seed)
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
