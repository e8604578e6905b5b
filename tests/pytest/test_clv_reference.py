"""BG/NBD and Gamma-Gamma agree with the reference implementation ``lifetimes``.

Both implementations are fitted on the same simulated, day-granular summary (times in weeks,
so recency and age are whole days / 7, as in ``int_customer_clv_summary``), once with a < 1
and once with a > 1. Parameters, log-likelihoods and per-customer predictions must agree to
1e-4 relative: both optimisers are run to tight tolerances, so a larger gap means one of the
two likelihoods or prediction formulas is wrong, not that an optimiser stopped early.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from segment_warehouse.modelling import clv
from segment_warehouse.modelling.clv_simulation import SimulatedSummary as Summary
from segment_warehouse.modelling.clv_simulation import simulate_day_summary

lifetimes = pytest.importorskip("lifetimes")

RELATIVE_TOLERANCE = 1e-4
# lifetimes minimises the mean negative log-likelihood with BFGS and stops when the gradient
# norm falls below `tol` (default 1e-7). BG/NBD reaches 1e-8, within ~1e-7 of the optimum.
# Gamma-Gamma's mean log-likelihood is a sum of large cancelling log-gamma terms: below ~5e-8
# BFGS stops with "precision loss" on some samples, so it keeps 1e-7 (within ~5e-6).
REFERENCE_BG_NBD_TOLERANCE = 1e-8
REFERENCE_GAMMA_GAMMA_TOLERANCE = 1e-7
HORIZON_WEEKS = 52.0
GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}
BG_NBD_CASES = {
    "a_below_one": {"r": 0.75, "alpha": 8.0, "a": 0.8, "b": 2.5},
    "a_above_one": {"r": 0.4, "alpha": 6.0, "a": 1.6, "b": 5.0},
}


@dataclass(frozen=True)
class Fits:
    """Our fits and the reference fits on one summary."""

    summary: Summary
    bg_nbd: clv.FitResult
    gamma_gamma: clv.FitResult
    reference_bg_nbd: Any  # lifetimes.BetaGeoFitter
    reference_gamma_gamma: Any  # lifetimes.GammaGammaFitter


def repeat_buyers(summary: Summary) -> np.ndarray:
    return (summary.frequency > 0) & (summary.monetary_value > 0)


@pytest.fixture(scope="module", params=sorted(BG_NBD_CASES))
def fits(request: pytest.FixtureRequest) -> Fits:
    summary = simulate_day_summary(BG_NBD_CASES[request.param], GAMMA_GAMMA, 25_000, seed=11)
    repeat = repeat_buyers(summary)
    reference_bg_nbd = lifetimes.BetaGeoFitter(penalizer_coef=0.0).fit(
        summary.frequency, summary.recency, summary.age, tol=REFERENCE_BG_NBD_TOLERANCE
    )
    reference_gamma_gamma = lifetimes.GammaGammaFitter(penalizer_coef=0.0).fit(
        summary.frequency[repeat],
        summary.monetary_value[repeat],
        tol=REFERENCE_GAMMA_GAMMA_TOLERANCE,
    )
    return Fits(
        summary=summary,
        bg_nbd=clv.fit_bg_nbd(summary.frequency, summary.recency, summary.age),
        gamma_gamma=clv.fit_gamma_gamma(summary.frequency, summary.monetary_value),
        reference_bg_nbd=reference_bg_nbd,
        reference_gamma_gamma=reference_gamma_gamma,
    )


def reference_bg_nbd_parameters(fits: Fits) -> dict[str, float]:
    return {name: float(fits.reference_bg_nbd.params_[name]) for name in clv.BG_NBD_PARAMETERS}


def reference_gamma_gamma_parameters(fits: Fits) -> dict[str, float]:
    # lifetimes calls the Gamma-Gamma scale parameter v
    values = fits.reference_gamma_gamma.params_
    return {"p": float(values["p"]), "q": float(values["q"]), "gamma": float(values["v"])}


def test_summary_is_day_granular_with_the_edge_cases(fits: Fits) -> None:
    summary = fits.summary
    assert len(summary.frequency) >= 20_000
    for weeks in (summary.recency, summary.age):
        np.testing.assert_allclose(weeks * 7, np.round(weeks * 7), atol=1e-9)
    repeat = summary.frequency > 0
    assert 0.3 < repeat.mean() < 0.9  # both one-time and repeat buyers in numbers
    assert np.sum(repeat & (summary.recency == summary.age)) >= 20
    assert np.sum(summary.age == 0) >= 5
    assert fits.bg_nbd.n_distinct < fits.bg_nbd.n_customers


def test_bg_nbd_parameters_and_likelihood_match_lifetimes(fits: Fits) -> None:
    assert fits.bg_nbd.converged
    reference = reference_bg_nbd_parameters(fits)
    for name in clv.BG_NBD_PARAMETERS:
        assert fits.bg_nbd.parameters[name] == pytest.approx(
            reference[name], rel=RELATIVE_TOLERANCE
        ), (name, fits.bg_nbd.parameters, reference)
    summary = fits.summary
    at_reference = clv.bg_nbd_log_likelihood(
        np.array([reference[name] for name in clv.BG_NBD_PARAMETERS]),
        summary.frequency,
        summary.recency,
        summary.age,
    ).sum()
    # lifetimes reports the mean negative log-likelihood with times scaled by 1 / max(age);
    # the scaling shifts each customer's log-likelihood by -x log(scale)
    scale = fits.reference_bg_nbd._scale
    reported = -fits.reference_bg_nbd._negative_log_likelihood_ * len(summary.frequency)
    assert at_reference == pytest.approx(
        reported + np.log(scale) * summary.frequency.sum(), rel=1e-10
    )
    # the two optima are equally good: neither optimiser stopped short
    assert fits.bg_nbd.log_likelihood == pytest.approx(at_reference, rel=1e-10)


def test_gamma_gamma_parameters_and_likelihood_match_lifetimes(fits: Fits) -> None:
    assert fits.gamma_gamma.converged
    summary = fits.summary
    repeat = repeat_buyers(summary)
    assert fits.gamma_gamma.n_customers == repeat.sum()
    reference = reference_gamma_gamma_parameters(fits)
    for name in clv.GAMMA_GAMMA_PARAMETERS:
        assert fits.gamma_gamma.parameters[name] == pytest.approx(
            reference[name], rel=RELATIVE_TOLERANCE
        ), (name, fits.gamma_gamma.parameters, reference)
    at_reference = clv.gamma_gamma_log_likelihood(
        np.array([reference[name] for name in clv.GAMMA_GAMMA_PARAMETERS]),
        summary.frequency[repeat],
        summary.monetary_value[repeat],
    ).sum()
    reported = -fits.reference_gamma_gamma._negative_log_likelihood_ * repeat.sum()
    assert at_reference == pytest.approx(reported, rel=1e-10)
    assert fits.gamma_gamma.log_likelihood == pytest.approx(at_reference, rel=1e-10)


def assert_predictions_match(
    fits: Fits,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    monetary_value: np.ndarray,
) -> None:
    """Compare P(alive), expected purchases and expected average value, each fit its own."""
    bg_nbd, reference_bg_nbd = fits.bg_nbd.parameters, fits.reference_bg_nbd
    np.testing.assert_allclose(
        clv.probability_alive(bg_nbd, frequency, recency, age),
        reference_bg_nbd.conditional_probability_alive(frequency, recency, age),
        rtol=RELATIVE_TOLERANCE,
    )
    np.testing.assert_allclose(
        clv.expected_purchases(bg_nbd, HORIZON_WEEKS, frequency, recency, age),
        reference_bg_nbd.conditional_expected_number_of_purchases_up_to_time(
            HORIZON_WEEKS, frequency, recency, age
        ),
        rtol=RELATIVE_TOLERANCE,
    )
    np.testing.assert_allclose(
        clv.expected_average_value(fits.gamma_gamma.parameters, frequency, monetary_value),
        fits.reference_gamma_gamma.conditional_expected_average_profit(frequency, monetary_value),
        rtol=RELATIVE_TOLERANCE,
    )


def test_per_customer_predictions_match_lifetimes(fits: Fits) -> None:
    summary = fits.summary
    assert_predictions_match(
        fits, summary.frequency, summary.recency, summary.age, summary.monetary_value
    )


def test_edge_cases_match_lifetimes(fits: Fits) -> None:
    # one-time buyers (from first purchase on the as-of date to three years ago), then last
    # purchases on the as-of date (recency == age), then a lapsed contrast
    frequency = np.array([0.0, 0.0, 0.0, 0.0, 1.0, 5.0, 40.0, 5.0])
    recency = np.array([0.0, 0.0, 0.0, 0.0, 1 / 7, 52.0, 150.0, 10 / 7])
    age = np.array([0.0, 1 / 7, 26.0, 1095 / 7, 1 / 7, 52.0, 150.0, 52.0])
    monetary_value = np.array([0.0, 0.0, 0.0, 0.0, 12.5, 30.0, 80.0, 30.0])
    assert_predictions_match(fits, frequency, recency, age, monetary_value)

    parameters = fits.bg_nbd.parameters
    p_alive = clv.probability_alive(parameters, frequency, recency, age)
    assert np.all(p_alive[:4] == 1.0)
    # at recency == age the time terms cancel: P(alive) = 1 / (1 + a / (b + x - 1))
    on_as_of_date = slice(4, 7)
    np.testing.assert_allclose(
        p_alive[on_as_of_date],
        1 / (1 + parameters["a"] / (parameters["b"] + frequency[on_as_of_date] - 1)),
        rtol=1e-12,
    )
    assert p_alive[5] > p_alive[7]
    # one-time buyers are valued at the population mean p * gamma / (q - 1)
    p, q, gamma = (fits.gamma_gamma.parameters[name] for name in clv.GAMMA_GAMMA_PARAMETERS)
    np.testing.assert_allclose(
        clv.expected_average_value(fits.gamma_gamma.parameters, frequency, monetary_value)[:4],
        p * gamma / (q - 1),
        rtol=1e-12,
    )


def test_large_summaries_reach_the_same_optimum(
    fits: Fits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above LARGE_FIT_ROWS every row is evaluated and the search starts at a subsample's
    optimum (L-BFGS-B on every k-th row, Newton steps on larger samples up to all rows):
    lowered here so that the 25,000 customers take that path. It must end at the optimum
    the compressed path finds (to 1e-6 relative, the goal against lifetimes; L-BFGS-B stops
    within about 1e-7), at least as high, and match lifetimes."""
    monkeypatch.setattr(clv, "LARGE_FIT_ROWS", 5_000)
    monkeypatch.setattr(clv, "SUBSAMPLE_ROWS", 1_000)
    summary = fits.summary
    large_fits = {
        "bg_nbd": clv.fit_bg_nbd(summary.frequency, summary.recency, summary.age),
        "gamma_gamma": clv.fit_gamma_gamma(summary.frequency, summary.monetary_value),
    }
    references = {
        "bg_nbd": (fits.bg_nbd, reference_bg_nbd_parameters(fits)),
        "gamma_gamma": (fits.gamma_gamma, reference_gamma_gamma_parameters(fits)),
    }
    for model_name, large in large_fits.items():
        compressed, reference = references[model_name]
        assert large.converged and "Newton steps on all rows" in large.message, large.message
        assert large.n_distinct == large.n_customers == compressed.n_customers
        assert compressed.n_distinct < compressed.n_customers
        for name, value in large.parameters.items():
            assert value == pytest.approx(compressed.parameters[name], rel=1e-6), name
            assert value == pytest.approx(reference[name], rel=RELATIVE_TOLERANCE), name
        assert large.log_likelihood >= compressed.log_likelihood * (1 + 1e-12)


def test_large_summaries_end_at_a_stationary_point(
    fits: Fits, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At the large path's estimates, a Newton step with the Hessian of all rows (finite
    differences of the exact gradient) moves no log parameter by 1e-8."""
    monkeypatch.setattr(clv, "LARGE_FIT_ROWS", 5_000)
    monkeypatch.setattr(clv, "SUBSAMPLE_ROWS", 1_000)
    summary = fits.summary
    fit = clv.fit_bg_nbd(summary.frequency, summary.recency, summary.age)
    objective = clv._BgNbdObjective(summary.frequency, summary.recency, summary.age)
    point = np.log([fit.parameters[name] for name in clv.BG_NBD_PARAMETERS])
    _, gradient = objective(point)
    step = np.linalg.solve(clv._hessian(objective, point, 1e-4), gradient)
    assert np.max(np.abs(step)) < 1e-8, step
