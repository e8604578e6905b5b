"""CLV backtest marts: predictions made as of an earlier date against what happened after it.

``earlier_warehouse`` is the demo data (orders to 2026-06-30) built as of 2025-06-30, so the
holdout period is the following year; ``demo_warehouse`` is built as of the last order date
and has nothing to compare with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import Warehouse
from scipy import stats

pytestmark = pytest.mark.dbt

AS_OF = pd.Timestamp("2025-06-30")
HOLDOUT_END = pd.Timestamp("2026-06-30")
FREQUENCY_BUCKETS = ["0", "1", "2", "3", "4", "5", "6", "7+"]
DECILES = [str(decile) for decile in range(1, 11)]

# Lower bounds for "the predictions are informative", set well below what the demo data
# give (Spearman CLV vs spend 0.23, transactions 0.36, normalised Gini 0.62 at 3,000
# customers; 0.27, 0.37, 0.62 at 100,000) and well above chance: for uninformative
# predictions of ~2,300 customers a Spearman correlation is 0 with a standard error of
# 1 / sqrt(n) = 0.02, so 0.15 is seven standard errors out.
MIN_SPEARMAN_CLV_VS_SPEND = 0.15
MIN_SPEARMAN_TRANSACTIONS = 0.2
MIN_NORMALISED_GINI = 0.4


@pytest.fixture(scope="module")
def backtested(earlier_warehouse: Warehouse) -> pd.DataFrame:
    """Per-customer backtest rows of the earlier warehouse."""
    rows = earlier_warehouse.query(
        "select * from intermediate.int_customer_clv_backtested order by customer_id"
    )
    rows["actual_spend"] = rows["actual_spend"].astype(float)
    return rows


@pytest.fixture(scope="module")
def backtest(earlier_warehouse: Warehouse) -> pd.DataFrame:
    """The grouped backtest mart of the earlier warehouse."""
    rows = earlier_warehouse.query(
        "select * from marts.clv_backtest order by breakdown, group_order"
    )
    rows["actual_spend"] = rows["actual_spend"].astype(float)
    return rows


@pytest.fixture(scope="module")
def metrics(earlier_warehouse: Warehouse) -> pd.Series:
    """The single row of the backtest metrics mart of the earlier warehouse."""
    rows = earlier_warehouse.query("select * from marts.clv_backtest_metrics")
    assert len(rows) == 1
    return rows.iloc[0]


def _gini(order_by: np.ndarray, spend: np.ndarray) -> float:
    """2 x area under the cumulative spend-share curve - 1, customers by ``order_by``
    descending; customers with equal ``order_by`` form one straight step of the curve."""
    _, step = np.unique(-order_by, return_inverse=True)
    step_spend = np.bincount(step, weights=spend)
    step_customers = np.bincount(step)
    after = np.cumsum(step_spend) / spend.sum()
    before = after - step_spend / spend.sum()
    area = np.sum(step_customers / len(spend) * (before + after) / 2)
    return 2 * area - 1


def test_gini_helper_on_known_cases() -> None:
    spend = np.array([10.0, 0.0, 0.0, 0.0])
    # all spend on the first of four customers: the curve jumps to 1 at x = 1/4
    assert _gini(np.array([4.0, 3.0, 2.0, 1.0]), spend) == pytest.approx(0.75)
    # ... on the last: area 1/8
    assert _gini(np.array([1.0, 2.0, 3.0, 4.0]), spend) == pytest.approx(-0.75)
    # one tie of everybody: the diagonal
    assert _gini(np.ones(4), spend) == pytest.approx(0.0)


def test_holdout_is_the_year_after_as_of_date(
    earlier_warehouse: Warehouse, backtested: pd.DataFrame, metrics: pd.Series
) -> None:
    assert earlier_warehouse.run.success
    window = earlier_warehouse.query("select * from intermediate.int_clv_backtest_window")
    assert len(window) == 1
    assert pd.Timestamp(window["latest_order_date"].iloc[0]) == HOLDOUT_END
    assert int(metrics["holdout_days"]) == 365
    assert pd.Timestamp(metrics["holdout_start_date"]) == AS_OF + pd.Timedelta(days=1)
    assert pd.Timestamp(metrics["holdout_end_date"]) == HOLDOUT_END
    assert pd.Timestamp(metrics["as_of_date"]) == AS_OF
    assert (pd.to_datetime(backtested["as_of_date"]) == AS_OF).all()


def test_groupings_add_up_to_the_total(
    backtest: pd.DataFrame, backtested: pd.DataFrame, metrics: pd.Series
) -> None:
    total = backtest[backtest["breakdown"] == "total"]
    assert total["group_value"].tolist() == ["all"]
    total = total.iloc[0]
    assert total["customers"] == len(backtested) == metrics["customers"] > 1000
    assert total["actual_transactions"] > 0

    buckets = backtest[backtest["breakdown"] == "calibration_frequency"]
    deciles = backtest[backtest["breakdown"] == "clv_decile"]
    assert buckets["group_value"].tolist() == FREQUENCY_BUCKETS
    assert deciles["group_value"].tolist() == DECILES
    assert deciles["customers"].max() - deciles["customers"].min() <= 1
    for groups in (buckets, deciles):
        assert groups["customers"].sum() == total["customers"]
        assert groups["actual_transactions"].sum() == total["actual_transactions"]
        assert groups["actual_spend"].sum() == pytest.approx(total["actual_spend"], abs=1e-6)
        assert groups["predicted_transactions"].sum() == pytest.approx(
            total["predicted_transactions"], rel=1e-12
        )
        assert groups["predicted_value"].sum() == pytest.approx(total["predicted_value"], rel=1e-12)
        means = groups["actual_spend"] / groups["customers"]
        np.testing.assert_allclose(groups["actual_spend_per_customer"], means, rtol=1e-12)
    assert metrics["actual_transactions"] == total["actual_transactions"]
    assert metrics["predicted_transactions"] == pytest.approx(total["predicted_transactions"])


def test_actuals_agree_with_an_independent_computation(
    earlier_warehouse: Warehouse, backtested: pd.DataFrame, backtest: pd.DataFrame
) -> None:
    orders = earlier_warehouse.query(
        "select customer_id, order_date, amount from intermediate.int_orders_enriched"
    )
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["amount"] = orders["amount"].astype(float)
    summary = earlier_warehouse.query(
        "select customer_id, frequency from intermediate.int_customer_clv_summary"
    )
    holdout = orders[(orders["order_date"] > AS_OF) & (orders["order_date"] <= HOLDOUT_END)]
    assert orders["order_date"].max() == HOLDOUT_END
    actual = holdout.groupby("customer_id").agg(
        reference_transactions=("order_date", "nunique"), reference_spend=("amount", "sum")
    )
    expected = summary.merge(actual, on="customer_id", how="left").fillna(
        {"reference_transactions": 0, "reference_spend": 0.0}
    )
    merged = backtested.merge(expected, on="customer_id", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all()
    assert (merged["actual_transactions"] == merged["reference_transactions"]).all()
    np.testing.assert_allclose(merged["actual_spend"], merged["reference_spend"], atol=1e-6)
    assert (merged["calibration_frequency"] == merged["frequency"]).all()
    # customers who first bought in the holdout period are not part of the backtest
    assert set(holdout["customer_id"]) - set(summary["customer_id"])

    # the frequency buckets, recomputed
    merged["bucket"] = merged["frequency"].clip(upper=7).astype(str).replace("7", "7+")
    by_bucket = (
        merged.groupby("bucket")
        .agg(
            customers=("customer_id", "size"),
            actual_transactions=("reference_transactions", "sum"),
            actual_spend=("reference_spend", "sum"),
        )
        .reindex(FREQUENCY_BUCKETS)
    )
    buckets = backtest[backtest["breakdown"] == "calibration_frequency"]
    assert buckets["customers"].tolist() == by_bucket["customers"].tolist()
    assert buckets["actual_transactions"].tolist() == by_bucket["actual_transactions"].tolist()
    np.testing.assert_allclose(buckets["actual_spend"], by_bucket["actual_spend"], atol=1e-6)

    # the deciles, recomputed: by predicted CLV descending, ties by customer_id, sizes
    # differing by at most one with the larger deciles first (ntile)
    ordered = backtested.sort_values(["predicted_clv", "customer_id"], ascending=[False, True])
    positions = np.array_split(np.arange(len(ordered)), 10)
    reference_decile = np.concatenate(
        [np.full(len(part), decile) for decile, part in enumerate(positions, 1)]
    )
    assert (ordered["clv_decile"].to_numpy() == reference_decile).all()


def test_predictions_are_the_predicted_models(
    earlier_warehouse: Warehouse, backtested: pd.DataFrame
) -> None:
    predicted = earlier_warehouse.query(
        "select customer_id, expected_holdout_purchases, expected_holdout_value, predicted_clv "
        "from intermediate.int_customer_clv_predicted"
    )
    merged = backtested.merge(predicted, on="customer_id", suffixes=("", "_model"))
    assert len(merged) == len(backtested)
    np.testing.assert_array_equal(
        merged["predicted_transactions"], merged["expected_holdout_purchases"]
    )
    np.testing.assert_array_equal(merged["predicted_value"], merged["expected_holdout_value"])
    np.testing.assert_array_equal(merged["predicted_clv"], merged["predicted_clv_model"])
    assert merged["predicted_clv"].notna().all()


def test_metrics_agree_with_scipy_and_numpy(backtested: pd.DataFrame, metrics: pd.Series) -> None:
    clv = backtested["predicted_clv"].to_numpy()
    spend = backtested["actual_spend"].to_numpy()
    predicted = backtested["predicted_transactions"].to_numpy()
    actual = backtested["actual_transactions"].to_numpy()
    # ties are plentiful (no purchase: spend 0; same purchase history: same CLV), so the
    # average ranks matter
    assert (spend == 0).mean() > 0.1
    assert len(np.unique(clv)) < len(clv)
    assert metrics["spearman_clv_vs_spend"] == pytest.approx(
        stats.spearmanr(clv, spend).statistic, abs=1e-9
    )
    assert metrics["spearman_transactions"] == pytest.approx(
        stats.spearmanr(predicted, actual).statistic, abs=1e-9
    )
    gini = _gini(clv, spend)
    assert metrics["gini_clv"] == pytest.approx(gini, abs=1e-9)
    assert metrics["normalised_gini"] == pytest.approx(gini / _gini(spend, spend), abs=1e-9)
    assert metrics["transactions_mean_absolute_error"] == pytest.approx(
        np.abs(predicted - actual).mean(), rel=1e-12
    )
    assert metrics["predicted_to_actual_transactions"] == pytest.approx(
        predicted.sum() / actual.sum(), rel=1e-12
    )
    assert float(metrics["actual_spend"]) == pytest.approx(spend.sum(), abs=1e-6)


def test_predictions_are_informative(backtest: pd.DataFrame, metrics: pd.Series) -> None:
    assert metrics["spearman_clv_vs_spend"] > MIN_SPEARMAN_CLV_VS_SPEND
    assert metrics["spearman_transactions"] > MIN_SPEARMAN_TRANSACTIONS
    assert metrics["normalised_gini"] > MIN_NORMALISED_GINI
    assert 0 < metrics["gini_clv"] < metrics["gini_clv"] / metrics["normalised_gini"]
    # unbiased in total: within 15 % of the actual transactions and spend
    assert 0.85 < metrics["predicted_to_actual_transactions"] < 1.15
    assert 0.85 < metrics["predicted_to_actual_value"] < 1.15
    # the top CLV decile spends far more than the bottom one, and both transactions and
    # spend rise from the lowest to the highest calibration frequency
    deciles = backtest[backtest["breakdown"] == "clv_decile"].set_index("group_value")
    spend = deciles["actual_spend_per_customer"]
    assert spend["1"] > 3 * spend["10"]
    buckets = backtest[backtest["breakdown"] == "calibration_frequency"].set_index("group_value")
    for column in ("actual_transactions_per_customer", "predicted_transactions_per_customer"):
        assert buckets[column]["7+"] > 2 * buckets[column]["0"], column


def test_backtest_marts_are_empty_without_later_data(demo_warehouse: Warehouse) -> None:
    assert demo_warehouse.run.success
    assert not demo_warehouse.run.failed_nodes()
    for node in (
        "int_customer_clv_backtested",
        "clv_backtest",
        "clv_backtest_metrics",
        "clv_backtest_frequency_buckets_add_up_to_total",
        "clv_backtest_metrics_one_row_matching_total",
    ):
        assert demo_warehouse.run.statuses.get(node) in {"success", "pass"}, node
    window = demo_warehouse.query("select * from intermediate.int_clv_backtest_window")
    assert window["holdout_days"].tolist() == [0]
    for relation in (
        "intermediate.int_customer_clv_backtested",
        "marts.clv_backtest",
        "marts.clv_backtest_metrics",
    ):
        assert demo_warehouse.query(f"select count(*) as n from {relation}")["n"].iloc[0] == 0
