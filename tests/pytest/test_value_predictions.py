"""dbt end to end: CLV predictions, value tiers, churn risk and the supervised churn score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import Warehouse, build_warehouse

pytestmark = pytest.mark.dbt

HORIZON_DAYS = 365
CHURN_WINDOW_DAYS = 90


def _parameters(warehouse: Warehouse, model_name: str) -> pd.Series:
    rows = warehouse.query(
        f"select parameter, value from marts.clv_model_parameters where model_name = '{model_name}'"
    )
    return rows.set_index("parameter")["value"]


def test_predictions_agree_with_lifetimes_on_the_warehouse_summary(
    demo_warehouse: Warehouse,
) -> None:
    """The dbt Python models wire units and columns right: lifetimes, fed the same summary
    and the fitted parameters, predicts the same P(alive), purchases and average value."""
    lifetimes = pytest.importorskip("lifetimes")
    predictions = demo_warehouse.query(
        """
        select
            summary.frequency, summary.recency, summary.age, summary.monetary_value,
            predictions.p_alive, predictions.expected_purchases,
            predictions.expected_average_value, predictions.time_unit
        from marts.customer_value_predictions as predictions
        inner join intermediate.int_customer_clv_summary as summary
            on predictions.customer_id = summary.customer_id
        """
    )
    assert len(predictions) > 2000
    assert set(predictions["time_unit"]) == {"week"}
    bg_nbd = lifetimes.BetaGeoFitter()
    bg_nbd.params_ = _parameters(demo_warehouse, "bg_nbd")[["r", "alpha", "a", "b"]]
    history = (predictions["frequency"], predictions["recency"], predictions["age"])
    np.testing.assert_allclose(
        predictions["p_alive"], bg_nbd.conditional_probability_alive(*history), rtol=1e-9
    )
    np.testing.assert_allclose(
        predictions["expected_purchases"],
        bg_nbd.conditional_expected_number_of_purchases_up_to_time(HORIZON_DAYS / 7, *history),
        rtol=1e-9,
    )
    gamma_gamma = lifetimes.GammaGammaFitter()
    gamma_gamma.params_ = _parameters(demo_warehouse, "gamma_gamma").rename({"gamma": "v"})[
        ["p", "q", "v"]
    ]
    repeat = predictions[predictions["frequency"] > 0]
    np.testing.assert_allclose(
        repeat["expected_average_value"],
        gamma_gamma.conditional_expected_average_profit(
            repeat["frequency"], repeat["monetary_value"]
        ),
        rtol=1e-9,
    )


def test_planted_churners_are_high_risk_and_vips_high_predicted_value(
    demo_warehouse: Warehouse, read_truth
) -> None:
    labels = read_truth("customer_labels")
    labels = labels[~labels["is_duplicate_identity"]]
    predictions = demo_warehouse.query(
        """
        select customer_id, p_alive, churn_score, churn_risk_level, predicted_value_segment
        from marts.customer_value_predictions
        where p_alive is not null
        """
    ).merge(labels, on="customer_id")
    churned = predictions[predictions["is_churned"]]
    assert len(churned) > 100
    from sklearn.metrics import roc_auc_score

    # The risk level is cut from the calibrated probability of no purchase in the next
    # window, not from the days since the last order, so some planted churners whose
    # history still looks like a seasonal buyer's are Medium or Low; on the demo (seed 42)
    # 80 % are High. Planted steady buyers are almost never High (0.4 %): the level
    # separates the two, which the old days-since-order rule did by construction only.
    assert (churned["churn_risk_level"] == "High churn risk").mean() >= 0.7
    steady = predictions[
        predictions["persona"].isin(["regular", "omnichannel", "store_only", "vip"])
    ]
    assert len(steady) > 500
    assert (steady["churn_risk_level"] == "High churn risk").mean() <= 0.02
    assert (steady["churn_risk_level"] == "Low churn risk").mean() >= 0.9
    both = pd.concat([churned, steady])
    assert roc_auc_score(both["is_churned"], both["churn_score"]) >= 0.95
    # planted churners bought repeatedly and stopped: exactly what P(alive) is built to see
    assert roc_auc_score(predictions["is_churned"], 1 - predictions["p_alive"]) >= 0.9
    vips = predictions[predictions["is_vip"]]
    assert len(vips) > 20
    assert (vips["predicted_value_segment"] == "High predicted value").mean() >= 0.9


def test_churn_risk_level_is_cut_from_the_calibrated_score(demo_warehouse: Warehouse) -> None:
    rows = demo_warehouse.query(
        """
        select churn_score, churn_model, churn_drivers, churn_risk_level, days_since_last_order
        from marts.customer_value_predictions
        """
    )
    scored = rows[rows["churn_score"].notna()]
    score = scored["churn_score"].astype(float).round(3)
    expected = np.select(
        [score >= 0.7, score >= 0.4], ["High churn risk", "Medium churn risk"], "Low churn risk"
    )
    assert (scored["churn_risk_level"] == expected).all()
    assert (rows.loc[rows["churn_score"].isna(), "churn_risk_level"] == "Not predicted").all()
    # every level is used, and a long gap alone does not make a customer High
    assert set(scored["churn_risk_level"]) == {
        "High churn risk", "Medium churn risk", "Low churn risk"
    }  # fmt: skip
    champion = demo_warehouse.query(
        "select model_name from marts.churn_model_evaluation where is_champion"
    )["model_name"].tolist()
    assert len(champion) == 1
    assert (scored["churn_model"] == champion[0]).all()
    assert scored["churn_drivers"].notna().all()
    if champion[0] in ("classifier", "logistic_regression"):
        # the top drivers with the signed change of the raw score at the training median
        assert scored["churn_drivers"].str.match(r"^[a-z_]+=\S+ \([+-]\d+\.\d\d\)").mean() > 0.99


def test_value_tiers_follow_clv_percentiles(demo_warehouse: Warehouse) -> None:
    rows = demo_warehouse.query(
        """
        select predicted_clv, clv_percentile, predicted_value_segment
        from marts.customer_value_predictions
        """
    )
    scored = rows[rows["predicted_clv"].notna()].copy()
    # percentile = percent_rank among purchasers with a prediction, ties share a value
    rank = scored["predicted_clv"].rank(method="min") - 1
    expected_percentile = (rank / (len(scored) - 1)).round(3)
    np.testing.assert_allclose(scored["clv_percentile"].astype(float), expected_percentile)
    tier = np.select(
        [expected_percentile >= 0.8, expected_percentile >= 0.5],
        ["High predicted value", "Medium predicted value"],
        "Low predicted value",
    )
    assert (scored["predicted_value_segment"] == tier).all()
    assert (
        rows.loc[rows["predicted_clv"].isna(), "predicted_value_segment"] == "Not predicted"
    ).all()
    high = scored["predicted_value_segment"] == "High predicted value"
    assert scored.loc[high, "predicted_clv"].min() >= scored.loc[~high, "predicted_clv"].max()


def test_customer_segments_carry_the_predictions(demo_warehouse: Warehouse) -> None:
    mismatches = demo_warehouse.query(
        """
        select count(*) as n
        from marts.customer_segments as segments
        inner join marts.customer_value_predictions as predictions
            on segments.customer_id = predictions.customer_id
        where segments.predicted_clv is distinct from predictions.predicted_clv
            or segments.p_alive is distinct from predictions.p_alive
            or segments.churn_score is distinct from predictions.churn_score
            or segments.churn_risk_level is distinct from predictions.churn_risk_level
            or segments.predicted_value_segment is distinct from predictions.predicted_value_segment
        """
    )
    assert mismatches["n"].iloc[0] == 0


def _features_from_orders(orders: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Recompute a cut-off's churn features and labels from the orders, in pandas."""
    before = orders[orders["order_date"] <= cutoff]
    recent = before[before["order_date"] > cutoff - pd.Timedelta(days=CHURN_WINDOW_DAYS)]
    after = orders[
        (orders["order_date"] > cutoff)
        & (orders["order_date"] <= cutoff + pd.Timedelta(days=CHURN_WINDOW_DAYS))
    ]
    features = before.groupby("customer_id").agg(
        order_count=("order_id", "size"),
        spend=("amount", "sum"),
        last_date=("order_date", "max"),
        purchase_days=("order_date", "nunique"),
    )
    features["days_since_last_purchase"] = (cutoff - features["last_date"]).dt.days
    features["recent_orders"] = recent.groupby("customer_id").size()
    features["recent_orders"] = features["recent_orders"].fillna(0).astype(int)
    features["is_churned"] = (~features.index.isin(after["customer_id"])).astype(int)
    return features.drop(columns="last_date")


def test_churn_features_use_only_the_history_before_each_cutoff(
    demo_warehouse: Warehouse,
) -> None:
    cutoffs = demo_warehouse.query("select * from intermediate.int_churn_cutoffs").iloc[0]
    as_of = pd.Timestamp(cutoffs["as_of_date"])
    assert pd.Timestamp(cutoffs["test_cutoff_date"]) == as_of - pd.Timedelta(days=90)
    assert pd.Timestamp(cutoffs["train_cutoff_date"]) == as_of - pd.Timedelta(days=180)
    orders = demo_warehouse.query(
        "select order_id, customer_id, amount, order_date from intermediate.int_orders_enriched"
    )
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders["amount"] = orders["amount"].astype(float)
    features = demo_warehouse.query("select * from intermediate.int_churn_features")
    for role in ("train", "test"):
        cutoff = pd.Timestamp(cutoffs[f"{role}_cutoff_date"])
        expected = _features_from_orders(orders[orders["order_date"] <= as_of], cutoff)
        actual = features[features["cutoff_role"] == role].set_index("customer_id")
        assert set(actual.index) == set(expected.index)
        columns = ["order_count", "purchase_days", "days_since_last_purchase", "recent_orders"]
        columns += ["is_churned"]
        pd.testing.assert_frame_equal(
            actual.loc[expected.index, columns].astype(int),
            expected[columns].astype(int),
            check_names=False,
        )
        np.testing.assert_allclose(
            actual.loc[expected.index, "spend"].astype(float), expected["spend"], rtol=1e-9
        )


def test_churn_model_is_evaluated_out_of_time_next_to_its_baselines(
    demo_warehouse: Warehouse,
) -> None:
    evaluation = demo_warehouse.query("select * from marts.churn_model_evaluation").set_index(
        "model_name"
    )
    assert set(evaluation.index) == {
        "classifier",
        "logistic_regression",
        "p_alive_baseline",
        "expected_purchases_baseline",
        "recency_baseline",
    }
    assert (evaluation["message"] == "ok").all()
    assert evaluation["is_evaluable"].all()
    assert evaluation["brier_score"].between(0, 0.25).all()  # 0.25: a coin flip at 50 %
    n_test = demo_warehouse.query(
        "select count(*) as n from intermediate.int_churn_features where cutoff_role = 'test'"
    )["n"].iloc[0]
    assert (evaluation["n_test_customers"] == n_test).all()
    classifier = evaluation.loc["classifier"]
    assert classifier["auc"] > 0.65
    assert classifier["precision_at_top_decile"] > classifier["churn_rate"]
    assert classifier["lift_at_top_decile"] == pytest.approx(
        classifier["precision_at_top_decile"] / classifier["churn_rate"]
    )
    # the champion: one row, and a model only when it beats the recency baseline
    assert evaluation["is_champion"].sum() == 1
    champion = evaluation.index[evaluation["is_champion"]][0]
    recency_auc = evaluation.loc["recency_baseline", "auc"]
    assert evaluation.loc[champion, "auc"] >= recency_auc
    if champion != "recency_baseline":
        assert evaluation.loc[champion, "auc"] >= recency_auc + 0.005
        assert evaluation.loc[champion, "auc"] == evaluation["auc"].max()
    assert evaluation["champion_reason"].nunique() == 1
    assert champion in evaluation["champion_reason"].iloc[0]
    assert evaluation.loc["recency_baseline", "candidate_kind"] == "trivial_baseline"
    assert (evaluation.drop(index="recency_baseline")["candidate_kind"] == "model").all()
    scores = demo_warehouse.query(
        "select churn_score from marts.customer_value_predictions where churn_score is not null"
    )
    # every purchaser who may be profiled (objectors are in no customer-level output)
    purchasers = demo_warehouse.query(
        "select count(*) as n from intermediate.int_customer_clv_summary "
        "where customer_id in (select customer_id from intermediate.int_customers_segmentable)"
    )["n"].iloc[0]
    assert len(scores) == purchasers
    assert scores["churn_score"].between(0, 1).all()
    assert scores["churn_score"].std() > 0.05


def test_single_purchases_only_build_with_models_marked_not_fitted(tmp_path: Path) -> None:
    """No repeat buyer: the models cannot be identified. The build passes, the parameters
    say why, predictions are null and every customer is Not predicted."""
    from segment_warehouse.demo.generator import generate

    generate(
        tmp_path / "data", customers=400, seed=5, fmt="csv", bad_row_share=0, tables=["orders"]
    )
    raw_dir = tmp_path / "data" / "raw"
    orders = pd.read_csv(raw_dir / "orders.csv", dtype=str)
    orders.drop_duplicates("customer_id").to_csv(raw_dir / "orders.csv", index=False)
    warehouse = build_warehouse(raw_dir, tmp_path / "build")
    assert not warehouse.run.failed_nodes()
    parameters = warehouse.query("select * from marts.clv_model_parameters")
    assert len(parameters) == 7
    assert parameters["value"].isna().all()
    assert not parameters["converged"].any()
    assert parameters["message"].str.contains("repeat").all()
    predictions = warehouse.query(
        """
        select
            count(*) as customers,
            count(p_alive) + count(predicted_clv) as predicted,
            count(*) filter (where predicted_value_segment = 'Not predicted') as not_predicted
        from marts.customer_value_predictions
        """
    ).iloc[0]
    assert predictions["customers"] > 300
    assert predictions["predicted"] == 0
    assert predictions["not_predicted"] == predictions["customers"]
    evaluation = warehouse.query("select * from marts.churn_model_evaluation")
    # nobody ever comes back, so every test customer churned: nothing to rank
    assert len(evaluation) == 5
    assert evaluation["auc"].isna().all() and evaluation["brier_score"].isna().all()
    assert evaluation["message"].str.contains("same outcome").all()
    assert not evaluation["is_evaluable"].any() and not evaluation["is_champion"].any()
    assert evaluation["champion_reason"].str.contains("no candidate is evaluable").all()
    # no score, so no guessed risk level either
    scores = warehouse.query(
        "select count(churn_score) as n, count(churn_model) + count(churn_drivers) as named,"
        " count(*) filter (where churn_risk_level != 'Not predicted') as levelled"
        " from marts.customer_value_predictions"
    )
    assert scores.iloc[0].tolist() == [0, 0, 0]
