"""BG/NBD and Gamma-Gamma: parameters recovered from simulated customers, edge cases."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from scipy import optimize

from segment_warehouse.modelling import clv

TRUE_BG_NBD = {"r": 0.75, "alpha": 8.0, "a": 0.8, "b": 2.5}
TRUE_GAMMA_GAMMA = {"p": 6.0, "q": 4.0, "gamma": 15.0}


def simulate_bg_nbd(
    parameters: dict[str, float], n: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, age) for n customers from BG/NBD, one purchase round at a time."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(parameters["r"], 1 / parameters["alpha"], n)
    dropout = rng.beta(parameters["a"], parameters["b"], n)
    age = rng.uniform(20, 100, n)
    clock = np.zeros(n)
    frequency = np.zeros(n)
    recency = np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1 / rate[active])
        bought = active & (clock <= age)
        frequency[bought] += 1
        recency[bought] = clock[bought]
        # after a purchase the customer drops out with probability p; past age nothing counts
        active = bought & (rng.random(n) >= dropout)
    return frequency, recency, age


def standard_errors(
    log_likelihood: Callable[[np.ndarray], float],
    estimates: dict[str, float],
    names: tuple[str, ...],
) -> np.ndarray:
    """Standard errors from the numerical Hessian of the total log-likelihood."""
    point = np.array([estimates[name] for name in names])
    steps = point * 1e-4

    def gradient(values: np.ndarray) -> np.ndarray:
        return optimize.approx_fprime(values, log_likelihood, steps)

    hessian = np.array(
        [(gradient(point + step) - gradient(point - step)) / (2 * step[i])
         for i, step in enumerate(np.diag(steps))]
    )  # fmt: skip
    return np.sqrt(np.diag(np.linalg.inv(-hessian)))


def test_bg_nbd_recovers_simulated_parameters() -> None:
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 50_000, seed=1)
    fit = clv.fit_bg_nbd(frequency, recency, age)
    assert fit.converged and fit.n_customers == 50_000

    def total(values: np.ndarray) -> float:
        return float(clv.bg_nbd_log_likelihood(values, frequency, recency, age).sum())

    errors = standard_errors(total, fit.parameters, clv.BG_NBD_PARAMETERS)
    for (name, truth), error in zip(TRUE_BG_NBD.items(), errors, strict=True):
        # Within 4 standard errors of the truth (a false alarm about once in 16,000 fits
        # per parameter), and the sample is big enough for each to be known to 15 %.
        assert abs(fit.parameters[name] - truth) < 4 * error, (name, fit.parameters, errors)
        assert error / truth < 0.15, (name, error)


def test_gamma_gamma_recovers_simulated_parameters() -> None:
    rng = np.random.default_rng(2)
    n = 50_000
    frequency = rng.integers(1, 12, n).astype(float)
    spend_rate = rng.gamma(TRUE_GAMMA_GAMMA["q"], 1 / TRUE_GAMMA_GAMMA["gamma"], n)
    totals = rng.gamma(TRUE_GAMMA_GAMMA["p"] * frequency, 1 / spend_rate)
    monetary_value = totals / frequency
    fit = clv.fit_gamma_gamma(frequency, monetary_value)
    assert fit.converged

    def total(values: np.ndarray) -> float:
        return float(clv.gamma_gamma_log_likelihood(values, frequency, monetary_value).sum())

    errors = standard_errors(total, fit.parameters, clv.GAMMA_GAMMA_PARAMETERS)
    for (name, truth), error in zip(TRUE_GAMMA_GAMMA.items(), errors, strict=True):
        assert abs(fit.parameters[name] - truth) < 4 * error, (name, fit.parameters, errors)
        assert error / truth < 0.15, (name, error)


def test_compression_gives_the_same_fit_as_every_row() -> None:
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 5_000, seed=3)
    frequency, recency, age = (np.round(v) for v in (frequency, recency, age))
    recency = np.minimum(recency, age)
    fit = clv.fit_bg_nbd(frequency, recency, age)
    assert fit.n_distinct < fit.n_customers
    every_row = float(
        clv.bg_nbd_log_likelihood(
            np.array([fit.parameters[name] for name in clv.BG_NBD_PARAMETERS]),
            frequency,
            recency,
            age,
        ).sum()
    )
    assert fit.log_likelihood == pytest.approx(every_row, rel=1e-12)


def test_predictions_behave_at_the_edges() -> None:
    parameters = TRUE_BG_NBD
    # a single purchase (x = 0) is never judged to have dropped out
    assert clv.probability_alive(parameters, np.array([0.0]), np.array([0.0]), np.array([50.0]))[
        0
    ] == pytest.approx(1.0)
    # the last purchase on the as-of date (t_x = age) beats the same history ending long ago
    recent, old = clv.probability_alive(
        parameters, np.array([5.0, 5.0]), np.array([50.0, 5.0]), np.array([50.0, 50.0])
    )
    assert recent > old and 0 < old < recent <= 1
    purchases = clv.expected_purchases(
        {**parameters, "a": 1.5},
        10.0,
        np.array([5.0, 5.0]),
        np.array([50.0, 5.0]),
        np.array([50.0, 50.0]),
    )
    assert purchases[0] > purchases[1] > 0
    value = clv.expected_average_value(
        TRUE_GAMMA_GAMMA, np.array([0.0, 3.0]), np.array([0.0, 40.0])
    )
    # no repeat purchase: the population mean p * gamma / (q - 1)
    assert value[0] == pytest.approx(6.0 * 15.0 / 3.0)
    assert value[1] == pytest.approx((15.0 + 40.0 * 3) * 6.0 / (6.0 * 3 + 4.0 - 1))


def test_degenerate_data_fail_clearly() -> None:
    with pytest.raises(clv.ClvFitError, match="every customer bought once"):
        clv.fit_bg_nbd(np.zeros(100), np.zeros(100), np.full(100, 30.0))
    with pytest.raises(clv.ClvFitError, match="at least two customers"):
        clv.fit_bg_nbd(np.array([2.0]), np.array([5.0]), np.array([10.0]))
    with pytest.raises(ValueError, match="recency <= age"):
        clv.fit_bg_nbd(np.array([1.0, 2.0]), np.array([20.0, 1.0]), np.array([10.0, 10.0]))
    with pytest.raises(clv.ClvFitError, match="two repeat buyers"):
        clv.fit_gamma_gamma(np.array([0.0, 1.0]), np.array([0.0, 10.0]))


def test_expected_purchases_agree_with_simulation_for_a_below_one() -> None:
    """The conditional expectation against simulated futures, for a < 1 (as on demo data)."""
    parameters = {"r": 0.75, "alpha": 8.0, "a": 0.8, "b": 2.5}
    rng = np.random.default_rng(5)
    n, age, horizon = 200_000, 40.0, 20.0
    rate = rng.gamma(parameters["r"], 1 / parameters["alpha"], n)
    dropout = rng.beta(parameters["a"], parameters["b"], n)
    clock, frequency, recency, future = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    active = np.ones(n, dtype=bool)
    while active.any():
        clock[active] += rng.exponential(1 / rate[active])
        before = active & (clock <= age)
        after = active & (clock > age) & (clock <= age + horizon)
        frequency[before] += 1
        recency[before] = clock[before]
        future[after] += 1
        active = (before | after) & (rng.random(n) >= dropout)
    predicted = clv.expected_purchases(parameters, horizon, frequency, recency, np.full(n, age))
    for x in (0, 1, 3):
        group = frequency == x
        # the mean of ~10,000+ simulated futures: a few percent of Monte Carlo noise
        assert predicted[group].mean() == pytest.approx(future[group].mean(), rel=0.05), x


def test_too_little_data_is_reported_as_not_converged() -> None:
    """Two customers: the likelihood keeps rising towards the edge of the search."""
    with pytest.warns(clv.ClvConvergenceWarning, match="bound of the search"):
        fit = clv.fit_bg_nbd(np.array([1.0, 2.0]), np.array([5.0, 8.0]), np.array([10.0, 10.0]))
    assert not fit.converged
    assert "do not identify the model" in fit.message


def test_exact_gradients_match_finite_differences() -> None:
    """The fitted objectives (mean negative log-likelihood over compressed rows, in log
    parameters) equal the per-row likelihood and their gradients equal finite differences."""
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 5_000, seed=4)
    recency, age = np.round(recency * 7) / 7, np.round(age * 7) / 7
    recency = np.minimum(recency, age)
    bg_nbd = clv._BgNbdObjective(frequency, recency, age)
    # a typical point, then dropout so unlikely (a small) and so likely (a large, b small)
    # that the per-row log-odds of having dropped out reach far below and above zero
    for parameters in ([0.6, 7.0, 0.9, 2.2], [0.6, 7.0, 1e-4, 2.2], [0.6, 7.0, 40.0, 0.3]):
        point = np.log(parameters)
        value, gradient = bg_nbd(point)
        expected = -clv.bg_nbd_log_likelihood(np.exp(point), frequency, recency, age).mean()
        assert value == pytest.approx(expected, rel=1e-12)
        numeric = optimize.approx_fprime(point, lambda z: bg_nbd(z)[0], 1e-7)
        np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)

    repeat = frequency > 0
    spend = np.random.default_rng(5).gamma(6.0, 2.5, repeat.sum())
    gamma_gamma = clv._GammaGammaObjective(frequency[repeat], spend)
    point = np.log([4.0, 3.0, 12.0])
    value, gradient = gamma_gamma(point)
    expected = -clv.gamma_gamma_log_likelihood(np.exp(point), frequency[repeat], spend).mean()
    assert value == pytest.approx(expected, rel=1e-12)
    numeric = optimize.approx_fprime(point, lambda z: gamma_gamma(z)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)


def test_fits_do_not_depend_on_row_order() -> None:
    """Rows arrive from the warehouse in any order; the estimates must not change by a bit."""
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 5_000, seed=6)
    rng = np.random.default_rng(2)
    # a wide range of values, so that a plain mean depends on the order of summation
    spend = 10 ** rng.uniform(-3, 6, len(frequency))
    age = age + 10 ** rng.uniform(-6, 3, len(frequency))
    order = rng.permutation(len(frequency))
    assert np.mean(spend) != np.mean(spend[order]) or np.mean(age) != np.mean(age[order])
    assert clv.fit_bg_nbd(frequency, recency, age) == clv.fit_bg_nbd(
        frequency[order], recency[order], age[order]
    )
    assert clv.fit_gamma_gamma(frequency, spend) == clv.fit_gamma_gamma(
        frequency[order], spend[order]
    )


def test_weighted_rows_equal_the_rows_they_stand_for() -> None:
    """The objectives on distinct rows with counts as weights equal those on every row."""
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 3_000, seed=7)
    frequency, recency, age = (np.round(v) for v in (frequency, recency, age))
    recency = np.minimum(recency, age)
    (distinct_x, distinct_t, distinct_age), counts = clv.compress(frequency, recency, age)
    assert len(counts) < len(frequency)
    point = np.log([0.6, 7.0, 0.9, 2.2])
    every_row = clv._BgNbdObjective(frequency, recency, age)(point)
    weighted = clv._BgNbdObjective(distinct_x, distinct_t, distinct_age, counts)(point)
    assert weighted[0] == pytest.approx(every_row[0], rel=1e-12)
    np.testing.assert_allclose(weighted[1], every_row[1], rtol=1e-10, atol=1e-14)

    repeat = frequency > 0
    spend = np.round(np.random.default_rng(8).gamma(6.0, 2.5, repeat.sum()))
    (distinct_x, distinct_m), counts = clv.compress(frequency[repeat], spend)
    assert len(counts) < repeat.sum()
    point = np.log([4.0, 3.0, 12.0])
    every_row = clv._GammaGammaObjective(frequency[repeat], spend)(point)
    weighted = clv._GammaGammaObjective(distinct_x, distinct_m, counts)(point)
    assert weighted[0] == pytest.approx(every_row[0], rel=1e-12)
    np.testing.assert_allclose(weighted[1], every_row[1], rtol=1e-10, atol=1e-14)


def test_value_codes_count_whole_numbers_and_factorise_the_rest() -> None:
    for values in (
        np.array([3.0, 1.0, 3.0, 2.0]),  # whole, every value from the lowest up
        np.array([7.0, 0.0, 7.0, 2.0]),  # whole, with gaps
        np.array([0.5, 2.0, 0.5, 1e9]),  # fractions and a count too large to bin
    ):
        distinct, codes = clv._value_codes(values)
        np.testing.assert_array_equal(distinct, np.unique(values))
        np.testing.assert_array_equal(distinct[codes], values)


def test_value_codes_put_zero_first_when_asked() -> None:
    """BG/NBD's per-x tables hold the one-time buyers (x = 0) first, whether the repeat
    buyers' counts are binned (with or without gaps) or factorised."""
    for values in (
        np.array([3.0, 1.0, 3.0, 2.0]),
        np.array([7.0, 2.0, 7.0]),
        np.array([0.5, 2.0, 0.5, 1e9]),
    ):
        distinct, codes = clv._value_codes(values, zero=True)
        np.testing.assert_array_equal(distinct, np.concatenate([[0.0], np.unique(values)]))
        np.testing.assert_array_equal(distinct[codes], values)


def test_grid_codes_are_exact_or_none() -> None:
    """Day-granular times (whole days, days / 7, / 24, / 30.4375) get codes whose table
    entries are the values bit for bit; values off the grid, a sample that missed the
    finest gap, negative or missing values and tables too long give None."""
    rng = np.random.default_rng(12)
    days = rng.integers(0, 1096, 50_000)
    for values in (days.astype(float), days / 7, days / 24, days / 30.4375):
        table, codes = clv._grid_codes(values, 10_000)
        assert len(table) == days.max() + 1
        np.testing.assert_array_equal(table[codes], values)
    off_grid = days / 7
    off_grid[17] += 1e-9
    # even days and one odd day: the sample's finest gap is two days
    sparse = 2.0 * days
    sparse[5] = 1.0
    for values, max_values in (
        (off_grid, 10_000),
        (sparse, 10_000),
        (rng.uniform(0, 100, 50_000), 10_000),
        (days / 7 - 1, 10_000),
        (np.where(days == 3, np.nan, days / 7), 10_000),
        (days / 7, 1_000),
    ):
        assert clv._grid_codes(values, max_values) is None


@pytest.mark.parametrize("weighted", [False, True], ids=["every_row", "compressed"])
def test_bg_nbd_per_value_path_equals_the_per_row_path(
    weighted: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With few values of T and t_x (whole days / 7), their logarithms and reciprocals are
    taken per value and gathered per row: the log-likelihood and gradient must equal the
    per-row path's, over several blocks (the last one short). Continuous times fall back
    to the per-row path, which must also match the per-row likelihood function."""
    monkeypatch.setattr(clv, "BLOCK_ROWS", 1_000)
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 20_000, seed=13)
    day_granular = (frequency, np.floor(recency * 7) / 7, np.floor(age * 7) / 7)
    for rows, few in ((day_granular, True), ((frequency, recency, age), False)):
        columns, weights = rows, None
        if weighted:
            columns, weights = clv.compress(*rows)
            assert len(weights) < len(frequency) or not few
        by_value = clv._BgNbdObjective(*columns, weights)
        per_row = clv._BgNbdObjective(*columns, weights, by_value=False)
        assert by_value.by_value == few and not per_row.by_value
        assert len(by_value._blocks) > 2
        for parameters in ([0.6, 7.0, 0.9, 2.2], [0.6, 7.0, 1e-4, 2.2], [0.6, 7.0, 40.0, 0.3]):
            point = np.log(parameters)
            value, gradient = by_value(point)
            expected_value, expected_gradient = per_row(point)
            assert value == pytest.approx(expected_value, rel=1e-12)
            np.testing.assert_allclose(gradient, expected_gradient, rtol=1e-10, atol=1e-14)
            every_row = clv.bg_nbd_log_likelihood(np.exp(point), *rows)
            assert value == pytest.approx(-every_row.mean(), rel=1e-12)


def test_gamma_gamma_blocks_sum_to_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gamma-Gamma's rows are summed block by block: several blocks give one block's
    objective and gradient."""
    frequency, _, _ = simulate_bg_nbd(TRUE_BG_NBD, 20_000, seed=14)
    frequency = frequency[frequency > 0]
    spend = np.random.default_rng(15).gamma(6.0, 2.5, len(frequency))
    point = np.log([4.0, 3.0, 12.0])
    one_block = clv._GammaGammaObjective(frequency, spend)(point)
    monkeypatch.setattr(clv, "BLOCK_ROWS", 1_000)
    objective = clv._GammaGammaObjective(frequency, spend)
    assert len(objective._blocks) > 2
    value, gradient = objective(point)
    assert value == pytest.approx(one_block[0], rel=1e-12)
    np.testing.assert_allclose(gradient, one_block[1], rtol=1e-10, atol=1e-14)


def test_large_summaries_do_not_depend_on_row_order_beyond_the_tolerance(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above LARGE_FIT_ROWS rows are not compressed (nor sorted), so the order of summation
    follows the rows: the estimates agree to the search's tolerance, not bit for bit."""
    monkeypatch.setattr(clv, "LARGE_FIT_ROWS", 2_000)
    monkeypatch.setattr(clv, "SUBSAMPLE_ROWS", 1_000)
    frequency, recency, age = simulate_bg_nbd(TRUE_BG_NBD, 20_000, seed=9)
    order = np.random.default_rng(3).permutation(len(frequency))
    fit = clv.fit_bg_nbd(frequency, recency, age)
    shuffled = clv.fit_bg_nbd(frequency[order], recency[order], age[order])
    assert fit.converged and shuffled.converged and "Newton" in fit.message
    for name, value in fit.parameters.items():
        assert shuffled.parameters[name] == pytest.approx(value, rel=1e-8), name


def test_large_unidentified_data_fail_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the large path too, data that do not identify the model end at the bound with a
    warning, whether the subsample search or the Newton steps give up."""
    monkeypatch.setattr(clv, "LARGE_FIT_ROWS", 100)
    monkeypatch.setattr(clv, "SUBSAMPLE_ROWS", 50)
    frequency = np.tile([1.0, 2.0], 300)
    recency = np.tile([5.0, 8.0], 300)
    age = np.full(600, 10.0)
    with pytest.warns(clv.ClvConvergenceWarning, match="bound of the search"):
        fit = clv.fit_bg_nbd(frequency, recency, age)
    assert not fit.converged
    assert fit.n_customers == 600
