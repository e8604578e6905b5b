"""Per-purchaser predictions of the fitted BG/NBD and Gamma-Gamma models.

Thin: reads the summary, the fitted parameters and the backtest window, calls
segment_warehouse.modelling.clv.predict_customers and returns one row per purchaser. A model that
could not be fitted, or did not converge, leaves its prediction columns null rather
than failing the build.
"""

import pandas as pd

from segment_warehouse.modelling import clv, threads

DAYS_PER_UNIT = {"day": 1.0, "week": 7.0}


def model(dbt, session):
    """Predict purchases, P(alive), average value and CLV for every purchaser."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    horizon_days = float(dbt.config.get("horizon_days"))
    annual_discount_rate = float(dbt.config.get("annual_discount_rate"))
    relation = dbt.ref("int_customer_clv_summary")
    # time_unit is one value for every row: read once, not once per customer
    summary = (
        relation.project("customer_id, frequency, recency, age, monetary_value, as_of_date")
        .order("customer_id")
        .df()
    )
    (time_unit,) = relation.aggregate("min(time_unit)").fetchall()[0]
    fitted = dbt.ref("int_clv_models_fitted").df()
    window = dbt.ref("int_clv_backtest_window").df()
    holdout_days = float(window["holdout_days"].iloc[0]) if len(window) else 0.0

    converged = fitted[fitted["converged"].astype(bool)].dropna(subset=["value"])
    parameters = {
        model_name: dict(zip(rows["parameter"], rows["value"], strict=True))
        for model_name, rows in converged.groupby("model_name")
    }
    time_unit = time_unit if len(summary) else "week"
    days_per_unit = DAYS_PER_UNIT[time_unit]
    settings = clv.ValueSettings(
        horizon=horizon_days / days_per_unit,
        periods_per_year=365.25 / days_per_unit,
        annual_discount_rate=annual_discount_rate,
        holdout=holdout_days / days_per_unit,
    )
    columns = [
        "p_alive",
        "expected_purchases",
        "expected_average_value",
        "predicted_clv",
        "expected_holdout_purchases",
        "expected_holdout_value",
    ]
    predictions = pd.DataFrame({"customer_id": summary["customer_id"]}, index=summary.index)
    if "bg_nbd" in parameters and len(summary):
        predicted = clv.predict_customers(
            parameters["bg_nbd"],
            parameters.get("gamma_gamma"),
            settings,
            summary["frequency"].to_numpy(),
            summary["recency"].to_numpy(),
            summary["age"].to_numpy(),
            summary["monetary_value"].to_numpy(dtype=float, na_value=float("nan")),
        )
    else:
        predicted = {}
    for column in columns:
        predictions[column] = predicted.get(column, pd.Series(float("nan"), index=summary.index))
    predictions["horizon_days"] = int(horizon_days)
    predictions["holdout_days"] = int(holdout_days)
    predictions["as_of_date"] = pd.to_datetime(summary["as_of_date"]).dt.date
    return predictions
