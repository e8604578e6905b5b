"""BG/NBD and Gamma-Gamma fitted on the CLV summary, one row per model and parameter.

Thin: reads the SQL summary, calls segment_warehouse.modelling.clv and returns a long table.
Degenerate data (no repeat buyers, a single customer) give rows with a null value,
converged = false and the reason in `message`, rather than a failed build.
"""

import warnings

import pandas as pd

from segment_warehouse.modelling import clv, threads


def model(dbt, session):
    """Fit both models on the summary and return their parameters."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    relation = dbt.ref("int_customer_clv_summary")
    # only the four columns the fits read, as numbers: the text and date columns repeat one
    # value on every row
    summary = relation.order("customer_id").project("frequency, recency, age, monetary_value").df()
    time_unit, as_of_date = relation.aggregate("min(time_unit), max(as_of_date)").fetchall()[0]
    time_unit = time_unit if len(summary) else None
    as_of_date = pd.Timestamp(as_of_date).date() if len(summary) else None
    models = {
        "bg_nbd": (
            clv.BG_NBD_PARAMETERS,
            lambda: clv.fit_bg_nbd(summary["frequency"], summary["recency"], summary["age"]),
        ),
        "gamma_gamma": (
            clv.GAMMA_GAMMA_PARAMETERS,
            lambda: clv.fit_gamma_gamma(summary["frequency"], summary["monetary_value"].fillna(0)),
        ),
    }
    rows = []
    for model_name, (parameters, fit_model) in models.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", clv.ClvConvergenceWarning)
            try:
                fit = fit_model()
                values, log_likelihood, n_customers = (
                    fit.parameters,
                    fit.log_likelihood,
                    fit.n_customers,
                )
                converged, message = fit.converged, fit.message
            except clv.ClvFitError as error:
                values, log_likelihood, n_customers = {}, None, len(summary)
                converged, message = False, str(error)
        for parameter in parameters:
            rows.append(
                {
                    "model_name": model_name,
                    "parameter": parameter,
                    "value": values.get(parameter),
                    "log_likelihood": log_likelihood,
                    "n_customers": n_customers,
                    "converged": converged,
                    "message": message,
                    "as_of_date": as_of_date,
                    "time_unit": time_unit,
                }
            )
    return pd.DataFrame(rows)
