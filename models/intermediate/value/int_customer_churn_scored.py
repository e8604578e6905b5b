"""Supervised churn score for every purchaser as of as_of_date.

Thin: trains segment_warehouse.churn's classifier on the `test` cut-off of
int_churn_features (the latest window whose outcome is known) and scores the `score`
cut-off, i.e. the purchase history as of as_of_date. The score is the probability of no
purchase in the next churn_window_days. Too little history leaves it null.
"""

import pandas as pd

from segment_warehouse import churn

COLUMNS = (
    "customer_id",
    "cutoff_role",
    *churn.FEATURES,
    "frequency",
    "recency",
    "age",
    "is_churned",
    "as_of_date",
)


def model(dbt, session):
    """Score every purchaser's probability of churning in the next window."""
    dbt.config(materialized="table")
    seed = int(dbt.config.get("random_seed"))
    max_rows = int(dbt.config.get("max_training_rows"))
    rows = (
        dbt.ref("int_churn_features")
        .filter("cutoff_role in ('test', 'score')")
        .project(", ".join(COLUMNS))
        .order("cutoff_role, customer_id")
        .df()
    )
    train = rows[rows["cutoff_role"] == "test"].reset_index(drop=True)
    current = rows[rows["cutoff_role"] == "score"].reset_index(drop=True)
    scores = pd.Series(float("nan"), index=current.index)
    try:
        fitted = churn.fit_classifier(train, train["is_churned"], seed=seed, max_rows=max_rows)
        scores[:] = churn.predict_churn(fitted, current)
    except churn.ChurnFitError:
        pass
    return pd.DataFrame(
        {
            "customer_id": current["customer_id"],
            "churn_score": scores.astype(float),
            "as_of_date": pd.to_datetime(current["as_of_date"]).dt.date,
        }
    )
