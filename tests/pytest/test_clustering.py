"""Behavioural clustering: scaling by hand, planted blobs recovered, SQL-exact assignment,
stable ids across refits and labels from z-scores."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segment_warehouse.modelling import clustering

PLANTED_CENTERS = np.array(
    [
        [0.0, 0.0, 0.0],
        [10.0, 0.0, 0.0],
        [0.0, 10.0, 0.0],
        [0.0, 0.0, 10.0],
    ]
)


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread():
    """Run k-means on one thread: on a busy machine OpenMP spinning slows small fits a lot."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield


def planted_blobs(per_cluster: int = 150, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four round blobs (sd 0.5) whose centres are 10 apart, shuffled; points and labels."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(PLANTED_CENTERS)), per_cluster)
    points = PLANTED_CENTERS[labels] + rng.normal(0.0, 0.5, (len(labels), 3))
    order = rng.permutation(len(labels))
    return points[order], labels[order]


# ---- scaling ------------------------------------------------------------------------------


def test_fit_scaling_against_hand_computed_winsorised_mean_and_std() -> None:
    frame = pd.DataFrame(
        {
            # sorted 1, 2, 3, 4, 100: quartiles 2 and 4, so clipped 3, 2, 4, 2, 4 (the 100 is
            # held at 4): mean 3, deviations 0, 1, 1, 1, 1 -> standard deviation sqrt(0.8)
            "spend": [3.0, 1.0, 100.0, 2.0, 4.0],
            # quartiles both 0: clipped to 0 everywhere -> constant, scale 1
            "refunds": [0.0, 0.0, 10.0, 0.0, 0.0],
            # null ignored: 10, 20, 30, 40 -> quartiles 17.5 and 32.5, clipped 17.5, 20, 30,
            # 32.5: mean 25, squared deviations 56.25, 25, 25, 56.25 -> sd sqrt(40.625)
            "tenure": [10.0, np.nan, 20.0, 30.0, 40.0],
        }
    )
    scaling = clustering.fit_scaling(frame, ["spend", "refunds", "tenure"], winsor_quantile=0.25)
    assert scaling.features == ("spend", "refunds", "tenure")
    np.testing.assert_array_equal(scaling.lower, [2.0, 0.0, 17.5])
    np.testing.assert_array_equal(scaling.upper, [4.0, 0.0, 32.5])
    np.testing.assert_allclose(scaling.center, [3.0, 0.0, 25.0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(scaling.scale, [np.sqrt(0.8), 1.0, np.sqrt(40.625)], rtol=1e-12)

    scaled = clustering.scale(frame, scaling)
    spend, tenure = np.sqrt(0.8), np.sqrt(40.625)
    expected = np.array(
        [
            [0.0, 0.0, -7.5 / tenure],
            [-1 / spend, 0.0, 0.0],  # the null tenure is imputed with the mean: 0 once scaled
            [1 / spend, 0.0, -5 / tenure],  # 100 and 10 are clipped to the bounds
            [-1 / spend, 0.0, 5 / tenure],
            [1 / spend, 0.0, 7.5 / tenure],
        ]
    )
    np.testing.assert_allclose(scaled, expected, rtol=0, atol=1e-12)
    assert scaled[1, 2] == 0.0
    # back in original (clipped) units, the imputed value is the mean
    np.testing.assert_allclose(clustering.unscale(scaled, scaling)[1], [2.0, 0.0, 25.0])

    # without clipping: plain mean and population standard deviation
    plain = clustering.fit_scaling(frame, ["spend"], winsor_quantile=0)
    assert plain.center[0] == 22.0
    assert plain.scale[0] == pytest.approx(np.std([3.0, 1.0, 100.0, 2.0, 4.0]), rel=1e-12)
    with pytest.raises(ValueError, match="winsor_quantile"):
        clustering.fit_scaling(frame, ["spend"], winsor_quantile=0.5)


def test_winsorising_keeps_one_extreme_customer_from_setting_the_scale() -> None:
    values = np.concatenate([np.linspace(0.0, 1.0, 199), [1000.0]])
    frame = pd.DataFrame({"orders": values})
    clipped = clustering.fit_scaling(frame, ["orders"])  # default: 1 % and 99 %
    unclipped = clustering.fit_scaling(frame, ["orders"], winsor_quantile=0)
    assert clipped.upper[0] < 1.0
    assert clipped.scale[0] < 0.35 < 50 < unclipped.scale[0]
    # the extreme customer is scaled like the largest ordinary one
    scaled = clustering.scale(frame, clipped)
    assert scaled[-1, 0] == scaled[:, 0].max() < 2


def test_scale_follows_the_scaling_features_and_imputes_every_null() -> None:
    fitted_on = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0, 4.0], "b": [5.0, 5.0, 5.0, 5.0, 5.0]})
    scaling = clustering.fit_scaling(fitted_on, ["a", "b"], winsor_quantile=0)
    # a constant feature (only reachable without usable_features) gets scale 1
    np.testing.assert_array_equal(scaling.scale, [np.sqrt(2.0), 1.0])

    other = pd.DataFrame(
        {"b": [np.nan, 6.0, 5.0], "extra": ["x", "y", "z"], "a": [np.nan, pd.NA, 100.0]}
    )
    other["a"] = other["a"].astype("Float64")  # a nullable pandas column
    # b is clipped to its one value; a value beyond the fitted range is held at the bound
    np.testing.assert_allclose(
        clustering.scale(other, scaling), [[0.0, 0.0], [0.0, 0.0], [2 / np.sqrt(2.0), 0.0]]
    )


def test_usable_features_drops_all_null_and_constant_features_in_order() -> None:
    frame = pd.DataFrame(
        {
            "log_net_spend": [1.0, 2.0, np.nan],
            "store_order_share": [np.nan, np.nan, np.nan],  # no channel in the source
            "top_category_spend_share": [1.0, np.nan, 1.0],  # constant where known
            "holiday_order_share": [0.0, 0.0, 0.0],
            "log_order_count": [0.0, 0.0, 1e-9],
        }
    )
    assert clustering.usable_features(frame, frame.columns[::-1]) == (
        "log_order_count",
        "log_net_spend",
    )
    assert clustering.usable_features(frame.iloc[:0], frame.columns) == ()
    with pytest.raises(KeyError, match="discount_order_share"):
        clustering.usable_features(frame, ["log_net_spend", "discount_order_share"])
    with pytest.raises(ValueError, match="store_order_share"):
        clustering.fit_scaling(frame, ["log_net_spend", "store_order_share"])


def test_scaling_is_read_only() -> None:
    scaling = clustering.Scaling(features=("a",), center=np.array([1.0]), scale=np.array([2.0]))
    with pytest.raises(ValueError, match="read-only"):
        scaling.center[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        scaling.lower[0] = 5.0
    assert scaling.lower[0] == -np.inf and scaling.upper[0] == np.inf  # no clipping
    with pytest.raises(ValueError, match="positive"):
        clustering.Scaling(features=("a",), center=np.array([1.0]), scale=np.array([0.0]))
    with pytest.raises(ValueError, match="lower"):
        clustering.Scaling(features=("a",), center=[1.0], scale=[1.0], lower=[2.0], upper=[1.0])


# ---- k-means and k ------------------------------------------------------------------------


def test_sample_rows_is_seeded_sorted_and_takes_all_rows_when_fewer() -> None:
    np.testing.assert_array_equal(clustering.sample_rows(5, 10, seed=1), np.arange(5))
    sample = clustering.sample_rows(1000, 100, seed=1)
    assert len(np.unique(sample)) == 100
    assert np.all(np.diff(sample) > 0)
    np.testing.assert_array_equal(sample, clustering.sample_rows(1000, 100, seed=1))
    assert not np.array_equal(sample, clustering.sample_rows(1000, 100, seed=2))
    assert not np.array_equal(sample, clustering.sample_rows(1000, 100, seed=1, stream=1))


@pytest.mark.parametrize("sample_size", [10_000, 200])
def test_fit_kmeans_recovers_planted_blobs_deterministically(sample_size: int) -> None:
    points, planted = planted_blobs()
    fit = clustering.fit_kmeans(points, 4, seed=3, sample_size=sample_size)
    assert fit.centroids.shape == (4, 3)
    assert fit.n_fitted_rows == min(sample_size, len(points))

    labels = clustering.assign(points, fit.centroids)
    assert adjusted_rand_score(planted, labels) == 1.0
    # every centroid sits near one planted centre (a mean of about 50 or more points)
    nearest = np.sqrt(clustering.squared_distances(fit.centroids, PLANTED_CENTERS)).min(axis=1)
    assert np.all(nearest < 0.3)
    # inertia on the fitted rows: about 3 dimensions x 0.25 variance per row
    assert fit.inertia == pytest.approx(0.75 * fit.n_fitted_rows, rel=0.2)

    again = clustering.fit_kmeans(points, 4, seed=3, sample_size=sample_size)
    np.testing.assert_array_equal(again.centroids, fit.centroids)
    assert again.inertia == fit.inertia


def test_fit_kmeans_rejects_more_clusters_than_rows() -> None:
    with pytest.raises(ValueError, match="k must be between"):
        clustering.fit_kmeans(np.zeros((3, 2)), 4, seed=0, sample_size=10)
    with pytest.raises(ValueError, match="finite"):
        clustering.fit_kmeans(np.array([[0.0], [np.nan]]), 1, seed=0, sample_size=10)


def test_choose_k_picks_the_planted_k() -> None:
    points, _ = planted_blobs(per_cluster=100)
    selections, chosen = clustering.choose_k(
        points, range(8, 1, -1), seed=0, sample_size=300, silhouette_sample_size=250, n_init=3
    )
    assert chosen == 4
    assert [selection.k for selection in selections] == list(range(2, 9))
    by_k = {selection.k: selection for selection in selections}
    assert by_k[4].silhouette > 0.8
    assert all(by_k[k].silhouette < by_k[4].silhouette for k in by_k if k != 4)
    # merging two planted blobs costs an order of magnitude in inertia
    assert by_k[3].inertia > 10 * by_k[4].inertia

    fixed, fixed_k = clustering.choose_k(
        points,
        [],
        seed=0,
        sample_size=300,
        silhouette_sample_size=250,
        fixed_k=4,
        n_init=3,
    )
    assert fixed_k == 4
    assert fixed == [by_k[4]]


def test_choose_k_breaks_silhouette_ties_towards_the_smaller_k(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    points, _ = planted_blobs(per_cluster=20)
    monkeypatch.setattr(clustering, "_silhouette", lambda points, labels: 0.5)
    selections, chosen = clustering.choose_k(
        points, [5, 3, 4], seed=0, sample_size=80, silhouette_sample_size=80, n_init=1
    )
    assert chosen == 3
    assert [selection.silhouette for selection in selections] == [0.5, 0.5, 0.5]


# ---- assignment ---------------------------------------------------------------------------


def brute_force_assign(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    """The nearest centroid by a plain loop: distances summed feature by feature, a later
    centroid only wins when strictly nearer."""
    labels = []
    for point in points:
        best, best_distance = -1, np.inf
        for index, centroid in enumerate(centroids):
            distance = 0.0
            for value, center in zip(point, centroid, strict=True):
                distance += (value - center) * (value - center)
            if distance < best_distance:
                best, best_distance = index, distance
        labels.append(best)
    return np.array(labels)


def test_assign_agrees_with_a_brute_force_reference_in_chunks() -> None:
    rng = np.random.default_rng(11)
    # values on a coarse grid: many exact ties between centroids
    points = rng.integers(-3, 4, (500, 4)) / 2
    centroids = rng.integers(-2, 3, (7, 4)) / 2
    centroids[5] = centroids[2]  # a duplicate centroid never wins: the lower index takes ties
    expected = brute_force_assign(points, centroids)
    for chunk_rows in (13, 500, 65_536):
        np.testing.assert_array_equal(
            clustering.assign(points, centroids, chunk_rows=chunk_rows), expected
        )
    assert 5 not in expected
    # and on continuous values
    points = rng.normal(size=(300, 5))
    centroids = rng.normal(size=(6, 5))
    np.testing.assert_array_equal(
        clustering.assign(points, centroids, chunk_rows=64), brute_force_assign(points, centroids)
    )


def test_assign_sends_an_exact_tie_to_the_lowest_index_or_id() -> None:
    centroids = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [3.0, 3.0]])
    points = np.array([[0.0, 0.0], [0.5, 0.5], [-0.5, 0.5], [3.0, 2.0]])
    # (0, 0) is 1 from the first three; (0.5, 0.5) is 0.5 from the first two;
    # (-0.5, 0.5) is 0.5 from the second and third; (3, 2) is nearest the fourth
    np.testing.assert_array_equal(clustering.assign(points, centroids), [0, 0, 1, 3])
    # with ids, the lowest id among the tied centroids wins, as `order by distance, id`
    np.testing.assert_array_equal(
        clustering.assign(points, centroids, ids=[9, 4, 2, 7]), [2, 4, 2, 7]
    )
    with pytest.raises(ValueError, match="distinct"):
        clustering.assign(points, centroids, ids=[1, 1, 2, 3])


def test_assign_matches_sql_nearest_centroid_exactly() -> None:
    # values in tenths (inexact in binary) and centroids in eighths: thousands of rows give
    # exact ties and near-ties that only the same arithmetic in the same order settles alike
    rng = np.random.default_rng(1)
    n = 5000
    raw = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "f0": rng.integers(0, 31, n) / 10,
            "f1": rng.integers(0, 31, n) / 10,
            "f2": np.where(rng.random(n) < 0.1, np.nan, rng.integers(-20, 21, n) / 10),
        }
    )
    raw["f2"] = raw["f2"].astype("Float64")  # nulls, not NaN, on the SQL side
    # a scaling like a fitted one, with round numbers that make exact ties likely; the
    # bounds clip hundreds of values at either end
    scaling = clustering.Scaling(
        features=("f0", "f1", "f2"),
        center=[1.5, 1.5, 0.0],
        scale=[1.5, 1.5, 1.0],
        lower=[0.3, 0.2, -1.5],
        upper=[2.7, 2.8, 1.5],
    )
    assert (raw["f0"] < scaling.lower[0]).sum() > 100
    assert (raw["f1"] > scaling.upper[1]).sum() > 100
    points = clustering.scale(raw, scaling)
    centroids = rng.integers(-8, 9, (5, 3)) / 8
    centroids = np.vstack([centroids, centroids[[1]]])
    ids = np.array([12, 3, 7, 5, 9, 1])  # ids 3 and 1 share a centroid: 1 always wins
    names = ("lower", "upper", "center", "scale")
    parameters = pd.DataFrame(
        {f"{name}{j}": [getattr(scaling, name)[j]] for name in names for j in range(3)}
    )
    # as int_customer_clusters_assigned computes it (least and greatest skip nulls)
    scaled_columns = ",\n".join(
        f"case when raw.f{j} is null then 0 else (least(greatest(raw.f{j}, scaling.lower{j}), "
        f"scaling.upper{j}) - scaling.center{j}) / scaling.scale{j} end as s{j}"
        for j in range(3)
    )
    centroid_table = pd.DataFrame(
        {"cluster_id": ids, "c0": centroids[:, 0], "c1": centroids[:, 1], "c2": centroids[:, 2]}
    )
    with duckdb.connect() as connection:
        connection.register("raw", raw)
        connection.register("parameters", parameters)
        connection.register("centroids", centroid_table)
        sql_labels = connection.sql(
            f"""
            with

            scaled as (
                select
                    raw.row_id,
                    {scaled_columns}
                from raw
                cross join parameters as scaling
            ),

            distances as (
                select
                    scaled.row_id,
                    centroids.cluster_id,
                    (scaled.s0 - centroids.c0) * (scaled.s0 - centroids.c0)
                    + (scaled.s1 - centroids.c1) * (scaled.s1 - centroids.c1)
                    + (scaled.s2 - centroids.c2) * (scaled.s2 - centroids.c2) as distance
                from scaled
                cross join centroids
            )

            select row_id, cluster_id
            from distances
            qualify row_number() over (
                partition by row_id order by distance, cluster_id
            ) = 1
            order by row_id
            """
        ).df()
    labels = clustering.assign(points, centroids, ids=ids)
    np.testing.assert_array_equal(labels, sql_labels["cluster_id"].to_numpy())
    assert 3 not in labels and 1 in labels

    # the data do exercise ties: exact ties between distinct centroids, and rows where the
    # expanded |x|^2 - 2 x.c + |c|^2 (what a vectorised library would use) picks another one
    distinct = clustering.squared_distances(points, centroids[:5])
    two_nearest = np.sort(distinct, axis=1)[:, :2]
    assert np.sum(two_nearest[:, 0] == two_nearest[:, 1]) > 0
    expanded = (
        (points**2).sum(axis=1)[:, None] - 2 * points @ centroids.T + (centroids**2).sum(axis=1)
    )
    expanded_labels = ids[np.lexsort((np.broadcast_to(ids, expanded.shape), expanded))[:, 0]]
    assert np.sum(expanded_labels != labels) > 0


# ---- stable ids ---------------------------------------------------------------------------


PREVIOUS_IDS = [3, 7, 11]
PREVIOUS_CENTROIDS = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])


def test_match_clusters_keeps_ids_on_the_same_centroids() -> None:
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, PREVIOUS_CENTROIDS, 1.0)
    assert match.ids == (3, 7, 11)
    assert match.distances == (0.0, 0.0, 0.0)
    assert match.kept_ids == (3, 7, 11)
    assert match.fresh_ids == match.retired_ids == ()
    assert match.next_id == 12

    permutation = [2, 0, 1]
    moved = PREVIOUS_CENTROIDS[permutation] + np.array([[0.3, 0.4], [0.0, 0.0], [-0.6, 0.0]])
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, moved, 1.0)
    assert match.ids == (11, 3, 7)
    assert match.distances == pytest.approx((0.5, 0.0, 0.6), abs=1e-15)
    assert match.retired_ids == ()


def test_match_clusters_gives_a_new_cluster_a_fresh_id_and_retires_a_vanished_one() -> None:
    grown = np.vstack([PREVIOUS_CENTROIDS[[1]], [[9.0, 9.0]], PREVIOUS_CENTROIDS[[0, 2]]])
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, grown, 1.0)
    assert match.ids == (7, 12, 3, 11)
    assert match.distances[1] is None
    assert match.fresh_ids == (12,)
    assert match.retired_ids == ()
    assert match.next_id == 13
    # an id retired in an earlier run (say 20) is never handed out again
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, grown, 1.0, next_id=21)
    assert match.ids == (7, 21, 3, 11)
    assert match.next_id == 22
    with pytest.raises(ValueError, match="reuse"):
        clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, grown, 1.0, next_id=11)

    shrunk = PREVIOUS_CENTROIDS[[2, 0]]
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, shrunk, 1.0)
    assert match.ids == (11, 3)
    assert match.retired_ids == (7,)
    assert match.fresh_ids == ()
    assert match.next_id == 12


def test_match_clusters_retires_a_centroid_that_moved_too_far() -> None:
    moved = PREVIOUS_CENTROIDS.copy()
    moved[1] += [3.0, 0.0]  # 3 > max_distance 2.5
    moved[2] += [0.0, 2.5]  # exactly max_distance: keeps its id
    match = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, moved, 2.5)
    assert match.ids == (3, 12, 11)
    assert match.retired_ids == (7,)
    assert match.fresh_ids == (12,)
    assert match.distances[2] == 2.5
    # without a limit it would have kept the id
    unlimited = clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, moved, np.inf)
    assert unlimited.ids == (3, 7, 11)


def test_match_clusters_never_lets_a_far_pair_pull_a_near_pair_apart() -> None:
    # new A is nearer previous 1 than previous 2; new B is far from both. The cheapest plain
    # assignment (A-2 + B-1 = 0.6 + 10 < A-1 + B-2 = 0.4 + 11) would hand A the id 2; with
    # every far pair at one common cost A keeps 1, B gets a fresh id and 2 is retired.
    previous = np.array([[0.0, 0.0], [1.0, 0.0]])
    new = np.array([[0.4, 0.0], [-10.0, 0.0]])
    np.testing.assert_allclose(
        np.sqrt(clustering.squared_distances(new, previous)), [[0.4, 0.6], [10.0, 11.0]]
    )
    match = clustering.match_clusters([1, 2], previous, new, 1.0)
    assert match.ids == (1, 3)
    assert match.retired_ids == (2,)
    assert match.distances == (0.4, None)


def test_match_clusters_first_run_orders_ids_by_size_then_coordinates() -> None:
    centroids = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 1.0], [-1.0, 5.0]])
    sizes = [30, 50, 30, 10]
    empty = np.empty((0, 2))
    match = clustering.match_clusters([], empty, centroids, 1.0, new_sizes=sizes)
    # sizes 50 -> 1; the two 30s by first coordinate (0 < 1) -> 2 and 3; 10 -> 4
    assert match.ids == (3, 1, 2, 4)
    assert match.fresh_ids == (1, 2, 3, 4)
    assert match.retired_ids == ()
    assert match.next_id == 5
    # same data twice, or in another order: the same ids on the same centroids
    again = clustering.match_clusters([], empty, centroids, 1.0, new_sizes=sizes)
    assert again == match
    permutation = [3, 1, 0, 2]
    shuffled = clustering.match_clusters(
        [], empty, centroids[permutation], 1.0, new_sizes=np.array(sizes)[permutation]
    )
    assert shuffled.ids == tuple(np.array(match.ids)[permutation])
    # without sizes: coordinates ascending, feature by feature
    by_coordinates = clustering.match_clusters([], np.empty((0, 0)), centroids, 1.0)
    assert by_coordinates.ids == (4, 3, 2, 1)


def test_match_clusters_rejects_inconsistent_inputs() -> None:
    with pytest.raises(ValueError, match="distinct"):
        clustering.match_clusters([1, 1, 2], PREVIOUS_CENTROIDS, PREVIOUS_CENTROIDS, 1.0)
    with pytest.raises(ValueError, match="features"):
        clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, np.zeros((2, 3)), 1.0)
    with pytest.raises(ValueError, match="max_distance"):
        clustering.match_clusters(PREVIOUS_IDS, PREVIOUS_CENTROIDS, PREVIOUS_CENTROIDS, -1.0)


def test_centroid_shift_per_id_in_both_runs() -> None:
    previous = {1: [0.0, 0.0], 2: [1.0, 1.0], 5: [2.0, 2.0]}
    new = {2: np.array([4.0, 5.0]), 5: [2.0, 2.0], 9: [0.0, 0.0]}
    assert clustering.centroid_shift(previous, new) == {2: 5.0, 5: 0.0}


# ---- labels -------------------------------------------------------------------------------


def test_describe_clusters_from_z_scores() -> None:
    features = (
        "log_net_spend",
        "log_non_store_order_count",
        "smoothed_discount_order_share",
        "smoothed_holiday_order_share",
        "unnamed_feature",
    )
    mean = np.array([4.0, 1.0, 0.2, 0.1, 0.0])
    std = np.array([1.0, 0.5, 0.1, 0.0, 2.0])  # holiday share has no spread: never distinctive
    centroids = np.array(
        [
            # z: 2.0, -1.5, 0.6 (and 0.3): the three largest, largest first
            [6.0, 0.25, 0.26, 0.9, 0.6],
            # z: -0.5, -0.8, 3.0, 0, -2.5: only three make the label
            [3.5, 0.6, 0.5, 0.1, -5.0],
            # z: 0.49, 0, 0.4, (0, no spread), 0.2: nothing reaches 0.5
            [4.49, 1.0, 0.24, 5.0, 0.4],
            # z: 2.0 and -2.0: equal |z| in feature order
            [6.0, 0.0, 0.2, 0.1, 0.0],
        ]
    )
    labels = clustering.describe_clusters(centroids, mean, std, features, clustering.FEATURE_WORDS)
    assert labels == [
        "high spend · few online orders · discount-driven",
        "discount-driven · low unnamed feature · few online orders",
        "typical",
        "high spend · few online orders",
    ]


def test_describe_clusters_makes_equal_labels_unique_in_order() -> None:
    words = {"spend": ("thrifty", "lavish")}
    labels = clustering.describe_clusters(
        np.array([[0.0], [3.0], [0.1], [2.0], [-0.2], [1.5]]),
        population_mean=[0.0],
        population_std=[1.0],
        features=["spend"],
        feature_words=words,
    )
    assert labels == ["typical", "lavish", "typical (2)", "lavish (2)", "typical (3)", "lavish (3)"]
    assert len(set(labels)) == len(labels)
