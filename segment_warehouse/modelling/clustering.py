"""Behavioural clusters: winsorised scaling, seeded k-means, stable cluster ids and readable labels.

The customers' behavioural features (one row per purchaser, built in SQL) are winsorised
per feature (clipped to a low and a high quantile, so a few extreme customers can move
neither the scale nor a centroid) and standardised by the clipped values' mean and standard
deviation; a missing value becomes the mean (0 once scaled). Standardising, rather than
dividing by the interquartile range, keeps features that are 0 for most customers (store
orders, say) on a scale set by everyone, where an interquartile range of almost nothing
would blow them up. k-means is fitted on a seeded sample and every customer is then
assigned to the nearest centroid, with distances summed feature by feature in feature
order, so that SQL computing ``(least(greatest(value, lower), upper) - center) / scale``
and ``sum of (scaled - centroid)^2`` assigns every row alike.
The number of clusters is the one with the best silhouette on a seeded sample.

Cluster ids survive refits: the new centroids are matched to the previous ones (Hungarian
algorithm on the distance between centroids) and keep the id of their match when it is close
enough; otherwise they get a fresh id and the previous cluster is retired. Each cluster is
named after its most distinctive features (z-scores of its centroid against the population).
Every step is deterministic for a seed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

FEATURE_WORDS: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "sqrt_days_since_last_order": ("recently active", "lapsed"),
        "inactive_tenure_share": ("buying steadily", "no repeat lately"),
        "log_non_store_order_count": ("few online orders", "many online orders"),
        "log_store_order_count": ("online only", "in-store"),
        "log_average_order_value": ("small baskets", "large baskets"),
        "log_tenure_days": ("new", "long-standing"),
        "log_net_spend": ("low spend", "high spend"),
        "smoothed_discount_order_share": ("discount-averse", "discount-driven"),
        "smoothed_refunded_order_share": ("rarely refunds", "often refunds"),
        "smoothed_holiday_order_share": ("off-season", "holiday shoppers"),
        "top_category_spend_share": ("varied categories", "category-loyal"),
    }
)
"""Per feature, the words for a cluster well below and well above the population."""

FEATURES = tuple(FEATURE_WORDS)
"""The candidate features, in the order of ``int_customer_cluster_features``."""

TYPICAL_LABEL = "typical"
LABEL_SEPARATOR = " · "


# ---- scaling ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Scaling:
    """Per feature: clipping bounds, then the clipped values' center (mean) and scale.

    ``scaled = (min(max(value, lower), upper) - center) / scale``. The arrays are copied and
    made read-only, so a ``Scaling`` cannot change once made. Without ``lower`` and
    ``upper`` nothing is clipped.
    """

    features: tuple[str, ...]
    center: np.ndarray
    scale: np.ndarray
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None

    def __post_init__(self) -> None:
        """Check the shapes and freeze the arrays."""
        n_features = len(self.features)
        defaults = {"lower": -np.inf, "upper": np.inf}
        for name in ("center", "scale", "lower", "upper"):
            value = getattr(self, name)
            if value is None:
                value = np.full(n_features, defaults[name])
            values = np.array(value, dtype=float)
            if values.shape != (n_features,):
                raise ValueError(
                    f"{name} needs one value per feature ({n_features}), got shape {values.shape}"
                )
            values.setflags(write=False)
            object.__setattr__(self, name, values)
        if not (np.all(np.isfinite(self.center)) and np.all(self.scale > 0)):
            raise ValueError("center must be finite and scale positive for every feature")
        if not np.all(self.lower <= self.upper):
            raise ValueError("lower must not exceed upper for any feature")


def _matrix(frame: pd.DataFrame, features: Sequence[str]) -> np.ndarray:
    missing = [name for name in features if name not in frame.columns]
    if missing:
        raise KeyError(f"cluster features missing from the input: {', '.join(missing)}")
    return frame.loc[:, list(features)].to_numpy(dtype=float, na_value=np.nan)


def usable_features(frame: pd.DataFrame, candidates: Iterable[str]) -> tuple[str, ...]:
    """Return the candidates, in their order, that are neither entirely null nor constant.

    A feature from a missing optional source (e.g. no channel, so no store share) is null or
    constant for everyone and carries nothing to cluster on. A candidate that is not a
    column of ``frame`` is an error, not a silent drop.
    """
    candidates = tuple(candidates)
    matrix = _matrix(frame, candidates)
    present = ~np.isnan(matrix)
    has_values = present.any(axis=0)
    lowest = np.where(present, matrix, np.inf).min(axis=0, initial=np.inf)
    highest = np.where(present, matrix, -np.inf).max(axis=0, initial=-np.inf)
    varies = has_values & (highest > lowest)
    return tuple(name for name, keep in zip(candidates, varies, strict=True) if keep)


def fit_scaling(
    frame: pd.DataFrame, features: Sequence[str], winsor_quantile: float = 0.01
) -> Scaling:
    """Fit per-feature clipping bounds and the clipped values' mean and standard deviation.

    The bounds are the ``winsor_quantile`` and ``1 - winsor_quantile`` quantiles, ignoring
    nulls and interpolating linearly between order statistics (numpy's default, DuckDB's
    ``quantile_cont``); 0 clips nothing. Center and scale are the mean and the population
    standard deviation (ddof 0) of the clipped values; the scale is 1 where that is 0 (a
    constant feature). A feature without any value is an error: filter the candidates with
    ``usable_features`` first.
    """
    if not 0 <= winsor_quantile < 0.5:
        raise ValueError(f"winsor_quantile must be in [0, 0.5), got {winsor_quantile}")
    features = tuple(features)
    matrix = _matrix(frame, features)
    empty = [
        name for name, column in zip(features, matrix.T, strict=True) if np.isnan(column).all()
    ]
    if empty or not len(frame):
        raise ValueError(
            "cannot scale features without any value: "
            f"{', '.join(empty) or 'no rows'} (filter them with usable_features)"
        )
    lower, upper = np.nanpercentile(
        matrix, [100.0 * winsor_quantile, 100.0 * (1.0 - winsor_quantile)], axis=0
    )
    clipped = np.clip(matrix, lower, upper)
    center = np.nanmean(clipped, axis=0)
    spread = np.nanstd(clipped, axis=0)
    return Scaling(
        features=features,
        center=center,
        scale=np.where(spread > 0, spread, 1.0),
        lower=lower,
        upper=upper,
    )


def scale(frame: pd.DataFrame, scaling: Scaling) -> np.ndarray:
    """Return the clipped, standardised value per row and feature, with nulls as 0 (the mean).

    The same arithmetic in SQL is
    ``coalesce((least(greatest(value, lower), upper) - center) / scale, 0)``.
    """
    matrix = np.clip(_matrix(frame, scaling.features), scaling.lower, scaling.upper)
    scaled = (matrix - scaling.center) / scaling.scale
    return np.where(np.isnan(scaled), 0.0, scaled)


def unscale(points: np.ndarray, scaling: Scaling) -> np.ndarray:
    """Return scaled points (e.g. centroids) in the features' original (clipped) units."""
    return np.asarray(points, dtype=float) * scaling.scale + scaling.center


# ---- k-means ----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KMeansFit:
    """Centroids of one k-means fit and its inertia on the rows it was fitted on."""

    centroids: np.ndarray
    inertia: float
    n_fitted_rows: int


@dataclass(frozen=True)
class KSelection:
    """The silhouette and inertia of the k-means fit with ``k`` clusters."""

    k: int
    silhouette: float
    inertia: float


def _points(points: np.ndarray) -> np.ndarray:
    points = np.asarray(points, dtype=float)
    if points.ndim != 2:
        raise ValueError(f"points must be a 2-d array (rows x features), got {points.ndim}-d")
    if not np.all(np.isfinite(points)):
        raise ValueError("points must be finite: scale the features (nulls become 0) first")
    return points


def sample_rows(n_rows: int, size: int, seed: int, stream: int = 0) -> np.ndarray:
    """Return the sorted indices of a seeded sample of ``size`` rows (all rows when fewer).

    ``stream`` gives independent samples for the same seed (the k-means and the silhouette
    samples differ).
    """
    if size < 1:
        raise ValueError(f"a sample needs at least one row, got size {size}")
    if n_rows <= size:
        return np.arange(n_rows)
    rng = np.random.default_rng([seed, stream])
    return np.sort(rng.choice(n_rows, size, replace=False))


def fit_kmeans(
    points: np.ndarray,
    k: int,
    seed: int,
    sample_size: int,
    *,
    n_init: int = 10,
    max_iter: int = 300,
) -> KMeansFit:
    """Fit k-means with ``k`` clusters on a seeded sample of at most ``sample_size`` rows.

    k-means++ starts ``n_init`` times from ``seed`` and keeps the fit with the lowest
    inertia, so the same points, k and seed give the same centroids.
    """
    points = _points(points)
    sample = points[sample_rows(len(points), sample_size, seed)]
    if not 1 <= k <= len(sample):
        raise ValueError(f"k must be between 1 and the {len(sample)} sampled rows, got {k}")
    model = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=seed)
    model.fit(sample)
    return KMeansFit(
        centroids=np.asarray(model.cluster_centers_, dtype=float),
        inertia=float(model.inertia_),
        n_fitted_rows=len(sample),
    )


def squared_distances(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """Return the squared Euclidean distance of every point to every centroid.

    Summed feature by feature from the first to the last, as SQL evaluates
    ``(x1 - c1) * (x1 - c1) + (x2 - c2) * (x2 - c2) + ...``, so the results agree bit for bit
    (a vectorised sum or ``|x|^2 - 2 x.c + |c|^2`` would round differently and could flip
    near-ties).
    """
    points, centroids = np.asarray(points, dtype=float), np.asarray(centroids, dtype=float)
    distances = np.zeros((len(points), len(centroids)))
    for feature in range(points.shape[1]):
        difference = points[:, feature, None] - centroids[None, :, feature]
        distances += difference * difference
    return distances


def assign(
    points: np.ndarray,
    centroids: np.ndarray,
    ids: Sequence[int] | np.ndarray | None = None,
    *,
    chunk_rows: int = 65_536,
) -> np.ndarray:
    """Return each point's nearest centroid, ties to the lowest index (or id).

    Without ``ids`` the result is the centroid's row index; with ``ids`` it is the
    centroid's id and ties go to the lowest id, as SQL's
    ``order by squared_distance, cluster_id limit 1`` would. Points are processed
    ``chunk_rows`` at a time, so memory stays at ``chunk_rows x k`` distances.
    """
    points = _points(points)
    centroids = _points(centroids)
    if centroids.shape[1] != points.shape[1] or not len(centroids):
        raise ValueError(
            f"need at least one centroid with the points' {points.shape[1]} features, "
            f"got shape {centroids.shape}"
        )
    order = np.arange(len(centroids))
    if ids is not None:
        ids = np.asarray(ids, dtype=np.int64)
        if ids.shape != (len(centroids),) or len(np.unique(ids)) != len(ids):
            raise ValueError("ids must hold one distinct id per centroid")
        order = np.argsort(ids, kind="stable")
    ordered = centroids[order]
    labels = np.empty(len(points), dtype=np.int64)
    for start in range(0, len(points), max(chunk_rows, 1)):
        chunk = points[start : start + chunk_rows]
        # argmin returns the first minimum: the lowest position in id (or index) order
        labels[start : start + len(chunk)] = np.argmin(squared_distances(chunk, ordered), axis=1)
    return order[labels] if ids is None else ids[order][labels]


def _silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Return the mean silhouette, or NaN when it is undefined (one cluster, or one per row)."""
    n_labels = len(np.unique(labels))
    if not 2 <= n_labels <= len(points) - 1:
        return float("nan")
    return float(silhouette_score(points, labels))


def choose_k(
    points: np.ndarray,
    k_range: Iterable[int],
    seed: int,
    sample_size: int,
    silhouette_sample_size: int,
    *,
    fixed_k: int | None = None,
    n_init: int = 10,
) -> tuple[list[KSelection], int]:
    """Fit k-means for each k and return the fits' scores and the k with the best silhouette.

    Each k is fitted as ``fit_kmeans(points, k, seed, sample_size)`` would; its silhouette
    is computed on a separate seeded sample of at most ``silhouette_sample_size`` rows,
    each assigned to its nearest centroid. The highest silhouette wins, ties to the smaller
    k; a k whose silhouette is undefined (its sample falls in a single cluster) never wins.
    With ``fixed_k`` no selection happens: only that k is fitted and reported.
    """
    points = _points(points)
    candidates = [fixed_k] if fixed_k is not None else sorted(set(k_range))
    if not candidates:
        raise ValueError("k_range is empty")
    evaluation = points[sample_rows(len(points), silhouette_sample_size, seed, stream=1)]
    selections = []
    for k in candidates:
        fit = fit_kmeans(points, k, seed, sample_size, n_init=n_init)
        silhouette = _silhouette(evaluation, assign(evaluation, fit.centroids))
        selections.append(KSelection(k=int(k), silhouette=silhouette, inertia=fit.inertia))
    if fixed_k is not None:
        return selections, int(fixed_k)
    scored = [selection for selection in selections if np.isfinite(selection.silhouette)]
    if not scored:
        raise ValueError(
            f"no k in {candidates} gives a defined silhouette: the points do not separate"
        )
    # candidates ascend, and max keeps the first of equal keys: ties go to the smaller k
    return selections, max(scored, key=lambda selection: selection.silhouette).k


# ---- stable ids -------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterMatch:
    """The ids of the new centroids and what happened to the previous ones.

    ``ids`` and ``distances`` follow the new centroids' order; ``distances`` holds the
    distance to the previous centroid whose id was kept, None for a fresh id. ``kept_ids``
    and ``retired_ids`` ascend; ``fresh_ids`` are in the order they were handed out.
    ``next_id`` is the first id still unused, to pass to the next run.
    """

    ids: tuple[int, ...]
    distances: tuple[float | None, ...]
    kept_ids: tuple[int, ...]
    fresh_ids: tuple[int, ...]
    retired_ids: tuple[int, ...]
    next_id: int


def _ordering(centroids: np.ndarray, sizes: np.ndarray | None) -> np.ndarray:
    """Return centroid positions by size descending, then coordinates ascending, then position.

    The key depends only on the centroids themselves, not on the order k-means happened to
    return them in.
    """
    keys = [np.arange(len(centroids))]
    keys += [centroids[:, feature] for feature in reversed(range(centroids.shape[1]))]
    if sizes is not None:
        keys.append(-np.asarray(sizes, dtype=float))
    return np.lexsort(keys)


def match_clusters(
    previous_ids: Sequence[int] | np.ndarray,
    previous_centroids: np.ndarray,
    new_centroids: np.ndarray,
    max_distance: float,
    *,
    new_sizes: Sequence[int] | np.ndarray | None = None,
    next_id: int | None = None,
) -> ClusterMatch:
    """Give each new centroid the id of its previous counterpart, or a fresh one.

    Centroids are compared in scaled units. The one-to-one matching minimises, first, the
    number of new centroids left without a counterpart within ``max_distance`` and then the
    sum of their Euclidean distances (``scipy.optimize.linear_sum_assignment`` on distances
    with every pair farther than ``max_distance`` at one common, prohibitive cost, so a far
    pair never pulls two near pairs apart). A new centroid matched within ``max_distance``
    keeps the previous id; the others get fresh ids, and previous ids without such a match
    are retired. Works for any numbers of previous and new centroids, including none before
    (the first run).

    Fresh ids count up from ``next_id`` (default: the largest previous id + 1, or 1), in
    the order of the new centroids by ``new_sizes`` descending (when given), then by their
    coordinates ascending feature by feature: on the first run the largest cluster is 1.
    Pass ``next_id`` = (largest id ever used) + 1 so that no id retired in an earlier run
    is handed out again.
    """
    new_centroids = _points(new_centroids)
    previous_ids = np.asarray(previous_ids, dtype=np.int64).reshape(-1)
    if len(np.unique(previous_ids)) != len(previous_ids):
        raise ValueError("previous_ids must be distinct")
    if len(previous_ids):
        previous_centroids = _points(previous_centroids)
        if previous_centroids.shape != (len(previous_ids), new_centroids.shape[1]):
            raise ValueError(
                f"previous_centroids must have one row per previous id ({len(previous_ids)}) "
                f"and the new centroids' {new_centroids.shape[1]} features, "
                f"got shape {previous_centroids.shape}"
            )
    if new_sizes is not None and len(new_sizes) != len(new_centroids):
        raise ValueError("new_sizes must hold one size per new centroid")
    if not max_distance >= 0:
        raise ValueError(f"max_distance must be >= 0, got {max_distance}")
    first_free = int(previous_ids.max()) + 1 if len(previous_ids) else 1
    if next_id is None:
        next_id = first_free
    elif next_id < first_free:
        raise ValueError(f"next_id {next_id} would reuse a previous id (largest {first_free - 1})")

    ids = np.zeros(len(new_centroids), dtype=np.int64)
    distances = np.full(len(new_centroids), np.nan)
    kept = np.zeros(len(new_centroids), dtype=bool)
    if len(previous_ids) and len(new_centroids):
        distance = np.sqrt(squared_distances(new_centroids, previous_centroids))
        near = distance <= max_distance
        if np.isfinite(max_distance):
            # more than any sum of near distances: the number of near matches comes first
            far_cost = max_distance * (min(distance.shape) + 1) + 1.0
            cost = np.where(near, distance, far_cost)
        else:
            cost = distance
        rows, columns = linear_sum_assignment(cost)
        matched = near[rows, columns]
        rows, columns = rows[matched], columns[matched]
        ids[rows] = previous_ids[columns]
        distances[rows] = distance[rows, columns]
        kept[rows] = True

    fresh = [position for position in _ordering(new_centroids, new_sizes) if not kept[position]]
    ids[fresh] = np.arange(next_id, next_id + len(fresh))
    retired = np.setdiff1d(previous_ids, ids[kept])
    return ClusterMatch(
        ids=tuple(int(value) for value in ids),
        distances=tuple(
            float(value) if keep else None for value, keep in zip(distances, kept, strict=True)
        ),
        kept_ids=tuple(sorted(int(value) for value in ids[kept])),
        fresh_ids=tuple(int(value) for value in ids[fresh]),
        retired_ids=tuple(int(value) for value in retired),
        next_id=next_id + len(fresh),
    )


def centroid_shift(
    previous: Mapping[int, Sequence[float] | np.ndarray],
    new: Mapping[int, Sequence[float] | np.ndarray],
) -> dict[int, float]:
    """Return, per id present in both runs, the Euclidean distance its centroid moved."""
    shifts = {}
    for cluster_id in sorted(set(previous) & set(new)):
        before = np.asarray(previous[cluster_id], dtype=float)
        after = np.asarray(new[cluster_id], dtype=float)
        if before.shape != after.shape:
            raise ValueError(f"cluster {cluster_id}: centroids of different shapes")
        shifts[cluster_id] = float(np.sqrt(squared_distances(after[None], before[None])[0, 0]))
    return shifts


# ---- labels -----------------------------------------------------------------------------


def _words(feature: str, feature_words: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    if feature in feature_words:
        return feature_words[feature]
    readable = feature.removeprefix("log_").replace("_", " ")
    return f"low {readable}", f"high {readable}"


def describe_clusters(
    centroids_original_units: np.ndarray,
    population_mean: Sequence[float] | np.ndarray,
    population_std: Sequence[float] | np.ndarray,
    features: Sequence[str],
    feature_words: Mapping[str, tuple[str, str]] = FEATURE_WORDS,
    *,
    min_abs_z: float = 0.5,
    max_features: int = 3,
) -> list[str]:
    """Return a distinct, readable label per cluster from its most distinctive features.

    Per cluster and feature, z = (centroid - mean) / std (0 where std is 0 or unknown). Up
    to ``max_features`` features with |z| >= ``min_abs_z`` make the label, largest |z|
    first (equal |z| in feature order), each as the feature's low or high word, joined with
    " · "; a cluster without any is "typical". A feature missing from ``feature_words``
    reads "low <feature>" / "high <feature>". When clusters share a label, the first in
    the given order keeps it and the next ones get " (2)", " (3)", ...: pass the clusters
    in id order for labels that follow the ids.
    """
    centroids = np.atleast_2d(np.asarray(centroids_original_units, dtype=float))
    features = tuple(features)
    mean = np.asarray(population_mean, dtype=float)
    std = np.asarray(population_std, dtype=float)
    if not (centroids.shape[1] == len(features) == len(mean) == len(std)):
        raise ValueError("centroids, population_mean, population_std and features disagree")
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (centroids - mean) / std
    z = np.where(np.isfinite(z) & (std > 0), z, 0.0)

    labels: list[str] = []
    for row in z:
        order = np.argsort(-np.abs(row), kind="stable")
        chosen = [feature for feature in order if abs(row[feature]) >= min_abs_z]
        words = [
            _words(features[feature], feature_words)[int(row[feature] > 0)]
            for feature in chosen[:max_features]
        ]
        text = LABEL_SEPARATOR.join(words) or TYPICAL_LABEL
        label, repeat = text, 1
        while label in labels:
            repeat += 1
            label = f"{text} ({repeat})"
        labels.append(label)
    return labels
