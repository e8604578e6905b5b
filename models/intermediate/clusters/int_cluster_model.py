"""The behavioural cluster model, stored as rows: scaler, centroids, k selection, drift.

Thin: reads int_customer_cluster_features, calls segment_warehouse.modelling.clustering (winsorised
standard scaling, k by silhouette on a sample unless clusters.k is set, seeded k-means on a sample,
everyone assigned) and matches the new centroids to the ones this model stored on the
previous run (its own table, read before it is replaced) so that clusters keep their ids;
a date run again matches against the run before it, which the table keeps too.
One long table with a `component` column; the marts under models/marts/clusters/ expose
each component with its own columns.
"""

import numpy as np
import pandas as pd

from segment_warehouse.modelling import clustering, threads

# k-means restarts per fit (the best of them by inertia is kept): with small clusters beside
# large ones, a few restarts can settle in a worse partition
N_INIT = 10


def _previous_model(dbt, session, as_of_date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the centroids this model stored and those to measure drift against.

    Both are empty on the first run. Ids are matched against the stored centroids, whatever
    their date. Drift is measured against the run before: the stored centroids, unless they
    are for this run's own date - then against the run they were matched to, kept as
    component previous_centroid. So a date run again (a re-run, or after a failed or killed
    run) gives the same ids, drift and first-seen dates as the first time.
    """
    this = dbt.this
    exists = session.execute(
        "select count(*) from information_schema.tables "
        "where table_catalog = ? and table_schema = ? and table_name = ?",
        [this.database, this.schema, this.identifier],
    ).fetchall()[0][0]
    if not exists:
        return pd.DataFrame(), pd.DataFrame()
    name = f'"{this.database}"."{this.schema}"."{this.identifier}"'
    stored = session.sql(
        f"select * from {name} where component in ('centroid', 'previous_centroid')"
    ).df()
    centroids = stored[stored["component"] == "centroid"].reset_index(drop=True)
    if len(centroids) == 0 or pd.Timestamp(centroids["as_of_date"].max()).date() != as_of_date:
        return centroids, centroids
    kept = stored[stored["component"] == "previous_centroid"].copy()
    kept["component"] = "centroid"
    kept["as_of_date"] = kept["previous_as_of_date"]
    return centroids, kept.reset_index(drop=True)


def _active_centroids(rows: pd.DataFrame, used, scaling) -> tuple[np.ndarray, np.ndarray] | None:
    """Return ids and centroids (this run's scale) of the active clusters in ``rows``.

    None when there are none or they were fitted on other features.
    """
    active = rows[rows["cluster_status"] == "active"] if len(rows) else rows
    if len(active) == 0 or sorted(set(active["feature"])) != sorted(used):
        return None
    # the old centroids in original units, rescaled
    wide = active.pivot(index="cluster_id", columns="feature", values="centroid_original")
    original = wide.loc[:, list(used)].to_numpy(dtype=float)
    return wide.index.to_numpy(dtype=int), (original - scaling.center) / scaling.scale


def model(dbt, session):
    """Fit, match to the previous run and return the model rows."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    candidates = list(dbt.config.get("features"))
    fixed_k = dbt.config.get("k")
    seed = int(dbt.config.get("random_seed"))
    sample_size = int(dbt.config.get("sample_size"))
    # a run whose sources failed a data-quality gate or are stale fits no model: these refs
    # order it after the checks, whose failure skips it
    dbt.ref("int_raw_tables_gated")
    dbt.ref("int_source_freshness_checked")
    frame = dbt.ref("int_customer_cluster_features").order("customer_id").df()
    as_of_date = pd.Timestamp(frame["as_of_date"].max()).date() if len(frame) else None
    previous, drift_base = _previous_model(dbt, session, as_of_date)

    used = clustering.usable_features(frame, candidates)
    if not used:
        return _typed(pd.DataFrame(), as_of_date)
    scaling = clustering.fit_scaling(frame, used, float(dbt.config.get("winsor_quantile")))
    points = clustering.scale(frame, scaling)
    # a silhouette needs 2 <= k < distinct customers; with fewer there is no model and
    # every customer is 'Not clustered'
    largest_k = min(int(dbt.config.get("k_max")), len(np.unique(points, axis=0)) - 1)
    if largest_k < 2:
        return _typed(pd.DataFrame(), as_of_date)
    k_range = range(min(int(dbt.config.get("k_min")), largest_k), largest_k + 1)
    if fixed_k not in (None, "", "None"):
        fixed_k = min(int(fixed_k), largest_k)
    selections, k = clustering.choose_k(
        points,
        k_range,
        seed,
        int(dbt.config.get("selection_sample_size")),
        int(dbt.config.get("silhouette_sample_size")),
        n_init=N_INIT,
        fixed_k=fixed_k if fixed_k not in (None, "", "None") else None,
    )
    fit = clustering.fit_kmeans(points, k, seed, sample_size, n_init=N_INIT)
    sizes = np.bincount(clustering.assign(points, fit.centroids), minlength=k)
    shares = sizes / sizes.sum()

    # the previous run's active clusters, comparable only over the same features
    previous_active = previous[previous["cluster_status"] == "active"] if len(previous) else None
    comparable = _active_centroids(previous, used, scaling)
    same_features = comparable is not None
    if comparable is not None:
        previous_ids, previous_centroids = comparable
    else:
        previous_ids, previous_centroids = np.empty(0, dtype=int), np.empty((0, len(used)))
    next_id = int(previous["cluster_id"].max()) + 1 if len(previous) else 1
    match = clustering.match_clusters(
        previous_ids,
        previous_centroids,
        fit.centroids,
        float(dbt.config.get("match_max_distance")),
        new_sizes=sizes,
        next_id=next_id,
    )
    ids = np.asarray(match.ids, dtype=int)
    by_id = np.argsort(ids, kind="stable")
    values = frame.loc[:, list(used)].to_numpy(dtype=float, na_value=np.nan)
    original = clustering.unscale(fit.centroids, scaling)
    labels_by_id = clustering.describe_clusters(
        original[by_id], np.nanmean(values, axis=0), np.nanstd(values, axis=0), used
    )
    labels = dict(zip(ids[by_id], labels_by_id, strict=True))
    first_seen = {}
    previous_share = {}
    previous_as_of = None
    if len(previous):
        first_seen = previous.groupby("cluster_id")["first_seen_date"].min().to_dict()
    if len(drift_base):
        previous_share = drift_base.groupby("cluster_id")["cluster_share"].max().to_dict()
        previous_as_of = pd.Timestamp(drift_base["as_of_date"].max()).date()

    rows = [
        {
            "component": "scaler",
            "feature": feature,
            "lower_bound": lower,
            "upper_bound": upper,
            "center": center,
            "scale": spread,
        }
        for feature, lower, upper, center, spread in zip(
            used, scaling.lower, scaling.upper, scaling.center, scaling.scale, strict=True
        )
    ]
    for index in by_id:
        cluster_id = int(ids[index])
        for position, feature in enumerate(used):
            rows.append(
                {
                    "component": "centroid",
                    "cluster_id": cluster_id,
                    "cluster_label": labels[cluster_id],
                    "cluster_status": "active",
                    "feature": feature,
                    "centroid_scaled": fit.centroids[index, position],
                    "centroid_original": original[index, position],
                    "cluster_size": int(sizes[index]),
                    "cluster_share": float(shares[index]),
                    "first_seen_date": first_seen.get(cluster_id, as_of_date),
                }
            )
    if same_features:
        retired_now = {int(cluster_id) for cluster_id in match.retired_ids}
    elif previous_active is not None:
        # another feature set: the old centroids are not comparable and all retire
        retired_now = set(previous_active["cluster_id"].astype(int))
    else:
        retired_now = set()
    if len(previous):
        for record in previous.to_dict("records"):
            cluster_id = int(record["cluster_id"])
            if record["cluster_status"] == "retired" or cluster_id in retired_now:
                rows.append(
                    {
                        **{key: record[key] for key in ("cluster_id", "cluster_label", "feature")},
                        "component": "centroid",
                        "cluster_status": "retired",
                        "centroid_scaled": record["centroid_scaled"],
                        "centroid_original": record["centroid_original"],
                        "first_seen_date": record["first_seen_date"],
                        "retired_date": record["retired_date"]
                        if record["cluster_status"] == "retired"
                        else as_of_date,
                    }
                )
    for selection in selections:
        rows.append(
            {
                "component": "selection",
                "k": selection.k,
                "silhouette": selection.silhouette,
                "inertia": selection.inertia,
                "is_chosen_k": selection.k == k,
                "sample_size": min(int(dbt.config.get("selection_sample_size")), len(frame)),
            }
        )
    if len(drift_base):
        base = _active_centroids(drift_base, used, scaling)
        base_ids, base_centroids = base if base is not None else (np.empty(0, dtype=int), [])
        shifts = clustering.centroid_shift(
            dict(zip(base_ids.tolist(), base_centroids, strict=True)),
            {int(ids[i]): fit.centroids[i] for i in range(k)},
        )
        for index in by_id:
            cluster_id = int(ids[index])
            before = previous_share.get(cluster_id) if cluster_id in shifts else None
            rows.append(
                {
                    "component": "drift",
                    "cluster_id": cluster_id,
                    "cluster_label": labels[cluster_id],
                    "drift_status": "kept" if cluster_id in shifts else "new",
                    "previous_share": before,
                    "cluster_share": float(shares[index]),
                    "share_change": float(shares[index]) - before if before is not None else None,
                    "centroid_shift": shifts.get(cluster_id),
                    "previous_as_of_date": previous_as_of,
                }
            )
        if base is not None:
            retired_since_base = set(base_ids.tolist()) - {int(cluster_id) for cluster_id in ids}
        else:  # nothing comparable: every active cluster of the run before retired
            base_active = drift_base[drift_base["cluster_status"] == "active"]
            retired_since_base = set(base_active["cluster_id"].astype(int))
        for cluster_id in sorted(retired_since_base):
            rows.append(
                {
                    "component": "drift",
                    "cluster_id": cluster_id,
                    "drift_status": "retired",
                    "previous_share": previous_share.get(cluster_id),
                    "previous_as_of_date": previous_as_of,
                }
            )
    if len(drift_base):
        # kept for a re-run of this date
        kept = drift_base.assign(
            component="previous_centroid", previous_as_of_date=drift_base["as_of_date"]
        )
        rows.extend(kept[[column for column in COLUMNS if column in kept]].to_dict("records"))
    return _typed(pd.DataFrame(rows), as_of_date)


COLUMNS = {
    "component": "string",
    "cluster_id": "Int64",
    "cluster_label": "string",
    "cluster_status": "string",
    "feature": "string",
    "lower_bound": "float64",
    "upper_bound": "float64",
    "center": "float64",
    "scale": "float64",
    "centroid_scaled": "float64",
    "centroid_original": "float64",
    "cluster_size": "Int64",
    "cluster_share": "float64",
    "first_seen_date": "object",
    "retired_date": "object",
    "k": "Int64",
    "silhouette": "float64",
    "inertia": "float64",
    "is_chosen_k": "boolean",
    "sample_size": "Int64",
    "drift_status": "string",
    "previous_share": "float64",
    "share_change": "float64",
    "centroid_shift": "float64",
    "previous_as_of_date": "object",
}


def _typed(rows: pd.DataFrame, as_of_date) -> pd.DataFrame:
    """Give every column a fixed type, whichever components are present."""
    typed = pd.DataFrame(index=rows.index)
    for column, dtype in COLUMNS.items():
        values = rows[column] if column in rows else pd.Series(None, index=rows.index)
        if dtype == "object":
            typed[column] = pd.to_datetime(values).dt.date
        else:
            typed[column] = values.astype(dtype)
    typed["as_of_date"] = as_of_date
    return typed
