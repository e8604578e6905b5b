"""Out-of-time evaluation of the churn classifier against three baselines.

Thin: trains segment_warehouse.modelling.churn's classifier on the `train` cut-off of
int_churn_features, scores the later `test` cut-off it never saw, and records AUC and
precision in the top decile next to the same metrics for 1 - P(alive) and for minus the
expected purchases in the window (BG/NBD fitted on the test cut-off's own history), and
for days since the last purchase. Too little history gives rows with null metrics and the
reason in `message` instead of a failed build.
"""

import warnings

import numpy as np
import pandas as pd

from segment_warehouse.modelling import churn, clv

BATCH_ROWS = 500_000


def _bg_nbd_baselines(test: pd.DataFrame, window: float) -> dict[str, np.ndarray]:
    """Return 1 - P(alive) and minus the expected purchases in the window, per test row."""
    history = (test["frequency"], test["recency"], test["age"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clv.ClvConvergenceWarning)
        fit = clv.fit_bg_nbd(*history)
    return {
        "p_alive_baseline": 1 - clv.probability_alive(fit.parameters, *history),
        "expected_purchases_baseline": -clv.expected_purchases(fit.parameters, window, *history),
    }


def model(dbt, session):
    """Evaluate the classifier and the baselines on the test cut-off."""
    dbt.config(materialized="table")
    seed = int(dbt.config.get("random_seed"))
    max_rows = int(dbt.config.get("max_training_rows"))
    window_days = int(dbt.config.get("window_days"))
    days_per_unit = 7.0 if dbt.config.get("time_unit") == "week" else 1.0
    features = dbt.ref("int_churn_features")
    feature_columns = ", ".join(["customer_id", *churn.FEATURES, "is_churned"])
    n_train = int(features.filter("cutoff_role = 'train'").aggregate("count(*)").df().iloc[0, 0])
    # the training sample is drawn in DuckDB (seeded), the test rows are scored in batches
    train = (
        features.filter("cutoff_role = 'train'")
        .project(feature_columns)
        .order(f"hash(customer_id, {seed})")
        .limit(max_rows)
        .order("customer_id")
        .df()
    )
    test_features = features.filter("cutoff_role = 'test'").order("customer_id")
    test = test_features.project(
        "customer_id, frequency, recency, age, days_since_last_purchase, is_churned"
    ).df()

    def classifier_scores() -> np.ndarray:
        fitted = churn.fit_classifier(train, train["is_churned"], seed=seed, max_rows=max_rows)
        batches = (
            batch.to_pandas()
            for batch in test_features.project(feature_columns).fetch_record_batch(BATCH_ROWS)
        )
        customer_ids, scores = churn.predict_churn_batches(fitted, batches, keep="customer_id")
        if not np.array_equal(customer_ids, test["customer_id"].to_numpy()):
            raise RuntimeError("test rows came back in a different order")
        return scores

    fitted_baselines: dict[str, np.ndarray] = {}

    def baseline(name: str):
        def scores() -> np.ndarray:
            if not fitted_baselines:
                fitted_baselines.update(_bg_nbd_baselines(test, window_days / days_per_unit))
            return fitted_baselines[name]

        return scores

    candidates = {
        "classifier": classifier_scores,
        "p_alive_baseline": baseline("p_alive_baseline"),
        "expected_purchases_baseline": baseline("expected_purchases_baseline"),
        "recency_baseline": lambda: test["days_since_last_purchase"].to_numpy(dtype=float),
    }
    records = []
    for model_name, scores in candidates.items():
        metrics, message = {}, "ok"
        try:
            if test.empty:
                raise churn.ChurnFitError("no customer had purchased by the test cut-off")
            if test["is_churned"].nunique() < 2:
                raise churn.ChurnFitError(
                    "every test customer has the same outcome, so AUC is undefined"
                )
            metrics = churn.evaluate_scores(scores(), test["is_churned"])
        except (churn.ChurnFitError, clv.ClvFitError) as error:
            message = str(error)
        records.append(
            {
                "model_name": model_name,
                "auc": metrics.get("auc"),
                "precision_at_top_decile": metrics.get("precision_at_top_decile"),
                "lift_at_top_decile": metrics.get("lift_at_top_decile"),
                "churn_rate": metrics.get("churn_rate"),
                "n_training_customers": n_train if model_name == "classifier" else None,
                "n_test_customers": len(test),
                "message": message,
            }
        )
    evaluation = pd.DataFrame(records)
    for column in ["auc", "precision_at_top_decile", "lift_at_top_decile", "churn_rate"]:
        evaluation[column] = evaluation[column].astype(float)
    for column in ["n_training_customers", "n_test_customers"]:
        evaluation[column] = evaluation[column].astype("Int64")
    cutoffs = dbt.ref("int_churn_cutoffs").df()
    evaluation["train_cutoff_date"] = pd.to_datetime(cutoffs["train_cutoff_date"]).dt.date.iloc[0]
    evaluation["test_cutoff_date"] = pd.to_datetime(cutoffs["test_cutoff_date"]).dt.date.iloc[0]
    evaluation["window_days"] = window_days
    evaluation["as_of_date"] = pd.to_datetime(cutoffs["as_of_date"]).dt.date.iloc[0]
    return evaluation
