"""Supervised churn score for every purchaser as of as_of_date.

Thin: trains segment_warehouse.modelling.churn's classifier on the `test` cut-off of
int_churn_features (the latest window whose outcome is known) and scores the `score`
cut-off, i.e. the purchase history as of as_of_date. The score is the probability of no
purchase in the next churn.window_days. Too little history leaves it null.

Memory stays bounded on large data: the training sample (`churn.max_training_rows`,
seeded) is drawn in DuckDB, and the customers are scored in batches.
"""

import pandas as pd

from segment_warehouse.modelling import churn

BATCH_ROWS = 500_000


def model(dbt, session):
    """Score every purchaser's probability of churning in the next window."""
    dbt.config(materialized="table")
    seed = int(dbt.config.get("random_seed"))
    max_rows = int(dbt.config.get("max_training_rows"))
    # runs after the evaluation, so that the two never hold their rows at the same time
    dbt.ref("int_churn_models_evaluated")
    features = dbt.ref("int_churn_features")
    columns = ", ".join(["customer_id", *churn.FEATURES, "is_churned", "as_of_date"])
    train = (
        features.filter("cutoff_role = 'test'")
        .project(columns)
        .order(f"hash(customer_id, {seed})")
        .limit(max_rows)
        .order("customer_id")
        .df()
    )
    current = features.filter("cutoff_role = 'score'").project(columns).order("customer_id")
    as_of_date = pd.to_datetime(current.aggregate("max(as_of_date)").df().iloc[0, 0])
    try:
        fitted = churn.fit_classifier(train, train["is_churned"], seed=seed, max_rows=max_rows)
    except churn.ChurnFitError:
        customer_ids = current.project("customer_id").df()["customer_id"]
        scores = pd.Series(float("nan"), index=customer_ids.index)
    else:
        batches = (batch.to_pandas() for batch in current.fetch_record_batch(BATCH_ROWS))
        customer_ids, scores = churn.predict_churn_batches(fitted, batches, keep="customer_id")
    return pd.DataFrame(
        {
            "customer_id": customer_ids,
            "churn_score": pd.Series(scores, dtype=float),
            "as_of_date": as_of_date.date() if pd.notna(as_of_date) else None,
        }
    )
