"""The published churn score of every purchaser as of as_of_date.

Thin: reads the champion from int_churn_models_evaluated, refits it exactly as it was
evaluated (segment_warehouse.modelling.churn_champion; seeded, so it is the same model),
calibrates it on the whole `test` cut-off, and scores the `score` cut-off, i.e. the
purchase history as of as_of_date. `churn_score` is the calibrated probability of no
purchase in the next churn.window_days; `churn_model` names the champion and
`churn_drivers` the customer's top drivers. Without a champion every score is null.

Memory stays bounded on large data: the training sample (`churn.max_training_rows`,
seeded) is drawn in DuckDB, and the customers are scored in batches.
"""

import pandas as pd

from segment_warehouse.modelling import churn_champion, threads

BATCH_ROWS = 200_000


def model(dbt, session):
    """Score every purchaser's calibrated probability of churning in the next window."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    seed = int(dbt.config.get("random_seed"))
    max_rows = int(dbt.config.get("max_training_rows"))
    window_days = int(dbt.config.get("window_days"))
    days_per_unit = 7.0 if dbt.config.get("time_unit") == "week" else 1.0
    champions = (
        dbt.ref("int_churn_models_evaluated").filter("is_champion").project("model_name").df()
    )
    features = dbt.ref("int_churn_features")
    current = (
        features.filter("cutoff_role = 'score'")
        .project(f"{churn_champion.WINDOW_COLUMNS}, as_of_date")
        .order("customer_id")
    )
    as_of_date = pd.to_datetime(current.aggregate("max(as_of_date)").df().iloc[0, 0])
    published = None
    if len(champions):
        train, test = churn_champion.training_windows(features, seed=seed, max_rows=max_rows)
        try:
            published = churn_champion.fit_published_model(
                champions["model_name"].iloc[0],
                train,
                test,
                seed=seed,
                max_rows=max_rows,
                window=window_days / days_per_unit,
            )
        except churn_champion.FIT_ERRORS:
            # the evaluation fitted the same seeded model, so this does not happen; if it
            # did, nobody is scored rather than the build failing deep in a model
            published = None
        del train, test
    if published is None:
        scored = current.project("customer_id").df()
        scored["churn_score"] = pd.Series(float("nan"), index=scored.index, dtype=float)
        # typed text, so that an all-null column is still a string column in the warehouse
        scored["churn_model"] = pd.Series(None, index=scored.index, dtype="string")
        scored["churn_drivers"] = pd.Series(None, index=scored.index, dtype="string")
    else:
        batches = (batch.to_pandas() for batch in current.fetch_record_batch(BATCH_ROWS))
        scored = churn_champion.score_batches(published, batches, keep="customer_id")
    scored["as_of_date"] = as_of_date.date() if pd.notna(as_of_date) else None
    return scored
