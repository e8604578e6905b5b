"""Per-customer CLV predictions (clv.predict_customers) against lifetimes and by hand.

The BG/NBD and Gamma-Gamma parameters are fixed by hand (no fitting), so every expected
value below is a closed form: lifetimes' ``BetaGeoFitter`` / ``GammaGammaFitter`` with
``params_`` set evaluate the same formulas independently, and the discounting is recomputed
step by step here. Times are in weeks, as in ``int_customer_clv_summary``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segment_warehouse.modelling import clv

BG_NBD = {"r": 0.75, "alpha": 8.0, "a": 0.8, "b": 2.5}
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}
WEEKS_PER_YEAR = 365.25 / 7
HORIZON_WEEKS = 365 / 7
HOLDOUT_WEEKS = 26.0
ANNUAL_DISCOUNT_RATE = 0.1
RELATIVE_TOLERANCE = 1e-9
VALUE_KEYS = {"p_alive", "expected_purchases", "expected_average_value", "predicted_clv"}
HOLDOUT_KEYS = {"expected_holdout_purchases", "expected_holdout_value"}


def summary(seed: int = 3, n: int = 200) -> dict[str, np.ndarray]:
    """A day-granular summary in weeks: one-time buyers (monetary NaN, as the SQL leaves it),
    repeat buyers, recency == age, and many duplicated (x, t_x, T) rows."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, 730, n)
    frequency = rng.poisson(1.5, n) * (rng.random(n) < 0.7)
    recency_days = np.where(frequency > 0, rng.integers(0, age_days + 1), 0)
    recency_days[:5] = age_days[:5]  # bought on the as-of date
    # 40 customers share another customer's (x, t_x, T), most with a different spend
    copies = rng.integers(0, n, 40)
    age_days, frequency = np.r_[age_days, age_days[copies]], np.r_[frequency, frequency[copies]]
    recency_days = np.r_[recency_days, recency_days[copies]]
    monetary = np.where(frequency > 0, rng.gamma(3.0, 12.0, n + 40).round(2), np.nan)
    handmade = {  # (x, t_x days, T days, m): zero frequency, a heavy buyer, and a duplicate
        "frequency": [0, 0, 12, 3, 3],
        "recency": [0, 0, 700, 70, 70],
        "age": [35, 35, 714, 350, 350],
        "monetary_value": [np.nan, np.nan, 40.0, 25.0, 25.0],
    }
    return {
        "frequency": np.r_[frequency, handmade["frequency"]].astype(float),
        "recency": np.r_[recency_days, handmade["recency"]] / 7,
        "age": np.r_[age_days, handmade["age"]] / 7,
        "monetary_value": np.r_[monetary, handmade["monetary_value"]],
    }


def predict(
    customers: dict[str, np.ndarray],
    settings: clv.ValueSettings,
    gamma_gamma: dict[str, float] | None = GAMMA_GAMMA,
) -> dict[str, np.ndarray]:
    return clv.predict_customers(
        BG_NBD,
        gamma_gamma,
        settings,
        customers["frequency"],
        customers["recency"],
        customers["age"],
        customers["monetary_value"],
    )


def settings(
    horizon: float = HORIZON_WEEKS, rate: float = ANNUAL_DISCOUNT_RATE, holdout: float = 0.0
) -> clv.ValueSettings:
    return clv.ValueSettings(
        horizon=horizon,
        periods_per_year=WEEKS_PER_YEAR,
        annual_discount_rate=rate,
        holdout=holdout,
    )


@pytest.fixture(scope="module")
def reference():
    """lifetimes' fitters with the hand-set parameters (lifetimes calls Gamma-Gamma's gamma v)."""
    lifetimes = pytest.importorskip("lifetimes")
    bg_nbd = lifetimes.BetaGeoFitter()
    bg_nbd.params_ = pd.Series(BG_NBD)
    gamma_gamma = lifetimes.GammaGammaFitter()
    gamma_gamma.params_ = pd.Series(
        {"p": GAMMA_GAMMA["p"], "q": GAMMA_GAMMA["q"], "v": GAMMA_GAMMA["gamma"]}
    )
    return bg_nbd, gamma_gamma


def reference_purchases(bg_nbd, horizon: float, customers: dict[str, np.ndarray]) -> np.ndarray:
    """Cumulative expected purchases in the next ``horizon`` weeks according to lifetimes."""
    if horizon == 0:
        return np.zeros(len(customers["frequency"]))
    return np.asarray(
        bg_nbd.conditional_expected_number_of_purchases_up_to_time(
            horizon, customers["frequency"], customers["recency"], customers["age"]
        ),
        dtype=float,
    )


def reference_average_value(gamma_gamma, customers: dict[str, np.ndarray]) -> np.ndarray:
    """Gamma-Gamma value from lifetimes for repeat buyers; the population mean otherwise."""
    frequency = customers["frequency"]
    repeat = frequency > 0
    value = np.full(
        len(frequency), GAMMA_GAMMA["p"] * GAMMA_GAMMA["gamma"] / (GAMMA_GAMMA["q"] - 1)
    )
    value[repeat] = gamma_gamma.conditional_expected_average_profit(
        frequency[repeat], customers["monetary_value"][repeat]
    )
    return value


def monthly_step_ends(horizon: float, periods_per_year: float) -> list[float]:
    """Ends of the (about) monthly discount steps: full steps, the last one cut at the horizon."""
    step = periods_per_year / 12
    ends, k = [], 1
    while k * step < horizon - 1e-9 * step:
        ends.append(k * step)
        k += 1
    return [*ends, horizon]


def test_step_ends_helper_cuts_the_last_step_at_the_horizon() -> None:
    """The test's own step schedule: a year is exactly 12 steps, 365 days 12 with a short last."""
    step = WEEKS_PER_YEAR / 12
    assert monthly_step_ends(WEEKS_PER_YEAR, WEEKS_PER_YEAR) == pytest.approx(
        [step * k for k in range(1, 13)], rel=1e-12
    )
    ends = monthly_step_ends(HORIZON_WEEKS, WEEKS_PER_YEAR)
    assert len(ends) == 12
    assert ends[-1] == HORIZON_WEEKS
    assert ends[-1] - ends[-2] == pytest.approx(step - 0.25 / 7)
    assert monthly_step_ends(2.0, WEEKS_PER_YEAR) == [2.0]


def test_zero_discount_rate_gives_purchases_times_average_value() -> None:
    customers = summary()
    predictions = predict(customers, settings(rate=0.0))
    assert set(predictions) == VALUE_KEYS
    np.testing.assert_allclose(
        predictions["predicted_clv"],
        predictions["expected_purchases"] * predictions["expected_average_value"],
        rtol=1e-12,
    )
    assert np.all(predictions["predicted_clv"] > 0)


@pytest.mark.parametrize(
    "horizon",
    [2.0, HORIZON_WEEKS, WEEKS_PER_YEAR, 730 / 7],
    ids=["shorter_than_a_step", "365_days", "one_year_exact_steps", "730_days"],
)
def test_discounted_clv_agrees_with_a_step_by_step_computation(reference, horizon) -> None:
    bg_nbd, gamma_gamma = reference
    customers = summary()
    predictions = predict(customers, settings(horizon=horizon))

    ends = monthly_step_ends(horizon, WEEKS_PER_YEAR)
    cumulative = [reference_purchases(bg_nbd, end, customers) for end in [0.0, *ends]]
    discounted_purchases = sum(
        (cumulative[k + 1] - cumulative[k]) * (1 + ANNUAL_DISCOUNT_RATE) ** (-end / WEEKS_PER_YEAR)
        for k, end in enumerate(ends)
    )
    expected = discounted_purchases * reference_average_value(gamma_gamma, customers)
    np.testing.assert_allclose(predictions["predicted_clv"], expected, rtol=RELATIVE_TOLERANCE)

    undiscounted = predict(customers, settings(horizon=horizon, rate=0.0))["predicted_clv"]
    assert np.all(predictions["predicted_clv"] < undiscounted)
    # every purchase is discounted by at most the factor at the horizon (equal for one step)
    floor = undiscounted * (1 + ANNUAL_DISCOUNT_RATE) ** (-horizon / WEEKS_PER_YEAR)
    assert np.all(predictions["predicted_clv"] >= floor * (1 - 1e-12))


def test_a_higher_discount_rate_gives_a_smaller_clv() -> None:
    customers = summary()
    clv_by_rate = [
        predict(customers, settings(rate=rate))["predicted_clv"] for rate in (0, 0.1, 0.3)
    ]
    assert np.all(clv_by_rate[1] < clv_by_rate[0])
    assert np.all(clv_by_rate[2] < clv_by_rate[1])


def test_p_alive_purchases_and_average_value_agree_with_lifetimes(reference) -> None:
    bg_nbd, gamma_gamma = reference
    customers = summary()
    predictions = predict(customers, settings())
    history = (customers["frequency"], customers["recency"], customers["age"])
    np.testing.assert_allclose(
        predictions["p_alive"], bg_nbd.conditional_probability_alive(*history), rtol=1e-9
    )
    np.testing.assert_array_equal(predictions["p_alive"][customers["frequency"] == 0], 1.0)
    np.testing.assert_allclose(
        predictions["expected_purchases"],
        reference_purchases(bg_nbd, HORIZON_WEEKS, customers),
        rtol=RELATIVE_TOLERANCE,
    )
    np.testing.assert_allclose(
        predictions["expected_average_value"],
        reference_average_value(gamma_gamma, customers),
        rtol=RELATIVE_TOLERANCE,
    )


def test_holdout_columns_only_with_a_holdout_and_equal_to_the_cumulative_purchases(
    reference,
) -> None:
    bg_nbd, _ = reference
    customers = summary()
    assert set(predict(customers, settings(holdout=0.0))) == VALUE_KEYS

    predictions = predict(customers, settings(holdout=HOLDOUT_WEEKS))
    assert set(predictions) == VALUE_KEYS | HOLDOUT_KEYS
    np.testing.assert_allclose(
        predictions["expected_holdout_purchases"],
        reference_purchases(bg_nbd, HOLDOUT_WEEKS, customers),
        rtol=RELATIVE_TOLERANCE,
    )
    # undiscounted: purchases in the holdout times the expected value of one purchase
    np.testing.assert_allclose(
        predictions["expected_holdout_value"],
        predictions["expected_holdout_purchases"] * predictions["expected_average_value"],
        rtol=1e-12,
    )
    # the holdout does not change the horizon's predictions
    without_holdout = predict(customers, settings())
    for key in VALUE_KEYS:
        np.testing.assert_array_equal(predictions[key], without_holdout[key])


def test_without_gamma_gamma_the_value_columns_are_nan() -> None:
    customers = summary()
    predictions = predict(customers, settings(holdout=HOLDOUT_WEEKS), gamma_gamma=None)
    with_values = predict(customers, settings(holdout=HOLDOUT_WEEKS))
    assert set(predictions) == VALUE_KEYS | HOLDOUT_KEYS
    for key in ("expected_average_value", "predicted_clv", "expected_holdout_value"):
        assert np.isnan(predictions[key]).all(), key
    for key in ("p_alive", "expected_purchases", "expected_holdout_purchases"):
        assert np.isfinite(predictions[key]).all(), key
        np.testing.assert_array_equal(predictions[key], with_values[key])


def test_duplicates_get_identical_predictions_and_output_follows_input_order() -> None:
    customers = summary()
    frame = pd.DataFrame(customers)
    assert frame.duplicated(["frequency", "recency", "age"]).sum() > 20
    predictions = pd.DataFrame(predict(customers, settings(holdout=HOLDOUT_WEEKS)))

    bg_nbd_columns = ["p_alive", "expected_purchases", "expected_holdout_purchases"]
    spread = pd.concat([frame, predictions], axis=1).groupby(["frequency", "recency", "age"])[
        bg_nbd_columns
    ]
    assert (spread.max() == spread.min()).all().all()

    order = np.random.default_rng(11).permutation(len(frame))
    shuffled = {name: values[order] for name, values in customers.items()}
    shuffled_predictions = pd.DataFrame(predict(shuffled, settings(holdout=HOLDOUT_WEEKS)))
    pd.testing.assert_frame_equal(
        shuffled_predictions, predictions.iloc[order].reset_index(drop=True), check_exact=True
    )


def test_one_customer_alone_gets_the_same_prediction_as_in_a_batch() -> None:
    customers = summary()
    batch = predict(customers, settings(holdout=HOLDOUT_WEEKS))
    alone = predict(
        {name: values[[-3]] for name, values in customers.items()},
        settings(holdout=HOLDOUT_WEEKS),
    )
    for key, values in alone.items():
        assert values.shape == (1,)
        np.testing.assert_allclose(values, batch[key][[-3]], rtol=1e-12)


def test_empty_input_returns_empty_arrays() -> None:
    empty = {name: np.array([], dtype=float) for name in summary()}
    predictions = predict(empty, settings(holdout=HOLDOUT_WEEKS))
    assert set(predictions) == VALUE_KEYS | HOLDOUT_KEYS
    for key, values in predictions.items():
        assert isinstance(values, np.ndarray), key
        assert values.shape == (0,), key


def test_invalid_summary_is_rejected() -> None:
    customers = summary()
    customers["recency"] = customers["age"] + 1
    with pytest.raises(ValueError, match="recency"):
        predict(customers, settings())
