"""Out-of-time evaluation of the churn candidates and the choice of the champion.

Thin: segment_warehouse.modelling.churn_champion fits the gradient-boosted classifier and
the logistic regression on the `train` cut-off of int_churn_features, BG/NBD on the `test`
cut-off's histories, and scores the `test` cut-off with every candidate (days since the
last purchase is the trivial baseline). One row per candidate: AUC, lift, the Brier score
of its cross-fitted calibrated probability, whether it could be evaluated (and why not),
and which one is published (int_customer_churn_scored scores with it). A candidate that
fails is recorded as not evaluable; it never fails the build.
"""

import pandas as pd

from segment_warehouse.modelling import churn_champion, threads


def model(dbt, session):
    """Evaluate every churn candidate on the test cut-off and mark the champion."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    seed = int(dbt.config.get("random_seed"))
    max_rows = int(dbt.config.get("max_training_rows"))
    window_days = int(dbt.config.get("window_days"))
    min_auc_gain = float(dbt.config.get("champion_min_auc_gain"))
    days_per_unit = 7.0 if dbt.config.get("time_unit") == "week" else 1.0
    features = dbt.ref("int_churn_features")
    n_train = int(features.filter("cutoff_role = 'train'").aggregate("count(*)").df().iloc[0, 0])
    train, test = churn_champion.training_windows(features, seed=seed, max_rows=max_rows)
    evaluations = churn_champion.evaluate_candidates(
        train, test, seed=seed, max_rows=max_rows, window=window_days / days_per_unit
    )
    champion = churn_champion.choose_champion(evaluations, min_auc_gain=min_auc_gain)
    learned = (churn_champion.CLASSIFIER, churn_champion.LOGISTIC)
    evaluation = pd.DataFrame(
        {
            "model_name": [e.name for e in evaluations],
            "candidate_kind": [e.kind for e in evaluations],
            "auc": [e.auc if e.is_evaluable else None for e in evaluations],
            "precision_at_top_decile": [
                e.precision_at_top_decile if e.is_evaluable else None for e in evaluations
            ],
            "lift_at_top_decile": [
                e.lift_at_top_decile if e.is_evaluable else None for e in evaluations
            ],
            "brier_score": [e.brier_score if e.is_evaluable else None for e in evaluations],
            "churn_rate": [e.churn_rate if e.is_evaluable else None for e in evaluations],
            "n_training_customers": [n_train if e.name in learned else None for e in evaluations],
            "n_test_customers": len(test),
            "is_evaluable": [e.is_evaluable for e in evaluations],
            "is_champion": [e.name == champion.name for e in evaluations],
            "message": [e.message for e in evaluations],
            "champion_reason": champion.reason,
        }
    )
    for column in ["auc", "precision_at_top_decile", "lift_at_top_decile", "brier_score"]:
        evaluation[column] = evaluation[column].astype(float)
    evaluation["churn_rate"] = evaluation["churn_rate"].astype(float)
    for column in ["n_training_customers", "n_test_customers"]:
        evaluation[column] = evaluation[column].astype("Int64")
    cutoffs = dbt.ref("int_churn_cutoffs").df()
    evaluation["train_cutoff_date"] = pd.to_datetime(cutoffs["train_cutoff_date"]).dt.date.iloc[0]
    evaluation["test_cutoff_date"] = pd.to_datetime(cutoffs["test_cutoff_date"]).dt.date.iloc[0]
    evaluation["window_days"] = window_days
    evaluation["as_of_date"] = pd.to_datetime(cutoffs["as_of_date"]).dt.date.iloc[0]
    return evaluation
