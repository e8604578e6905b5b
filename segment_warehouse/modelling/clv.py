"""Customer lifetime value models: BG/NBD for purchases and Gamma-Gamma for spend.

Both are fitted by maximum likelihood on a per-customer summary built in SQL:

* ``frequency`` (x): repeat purchase periods (purchases after the first, same-day purchases
  merged),
* ``recency`` (t_x): time from the first to the last purchase,
* ``age`` (T in the papers): time from the first purchase to the as-of date,
* ``monetary_value``: mean value of the repeat purchases (Gamma-Gamma only).

Identical rows are compressed with weights before fitting, so the cost depends on the
number of distinct summaries, not on the number of customers. Log-likelihoods are computed
in log space with ``scipy.special`` functions; parameters are optimised on the log scale.

References: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2); Fader, Hardie and Lee (2005),
"RFM and CLV: using iso-value curves for customer base analysis", Journal of Marketing
Research 42(4); Fader and Hardie (2013), "The Gamma-Gamma model of monetary value".
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "gamma")


class ClvFitError(ValueError):
    """The data cannot identify the model (too few customers or no repeat purchases)."""


class ClvConvergenceWarning(UserWarning):
    """The optimiser stopped without reporting convergence."""


@dataclass(frozen=True)
class FitResult:
    """Fitted parameters of one model with the evidence behind them."""

    model_name: str
    parameters: dict[str, float]
    log_likelihood: float
    n_customers: int
    n_distinct: int
    converged: bool
    message: str


def _factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values and each element's index into them."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=float), sort=True)
    return np.asarray(uniques, dtype=float), codes.astype(np.int64)


def compress_codes(*columns: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
    """Compress rows to distinct rows, keeping each column's distinct values separate.

    Returns, per column, its sorted distinct values and, per distinct row, the index of
    its value in that column; and how often each distinct row occurs. Hash-based; distinct
    rows come out sorted, so look-ups into per-value tables walk memory in order.
    """
    values, codes = zip(*(_factorize(column) for column in columns), strict=True)
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for column_values, column_codes in zip(values, codes, strict=True):
        key = key * len(column_values) + column_codes
    row_codes, distinct_keys = pd.factorize(key, sort=True)
    counts = np.bincount(row_codes, minlength=len(distinct_keys)).astype(float)
    distinct_codes = []
    remaining = np.asarray(distinct_keys, dtype=np.int64)
    for column_values in reversed(values):
        distinct_codes.append(remaining % len(column_values))
        remaining = remaining // len(column_values)
    return list(values), distinct_codes[::-1], counts


def compress(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Return the distinct rows of the given columns and how often each occurs."""
    values, codes, counts = compress_codes(*columns)
    return [v[c] for v, c in zip(values, codes, strict=True)], counts


# ---- BG/NBD ---------------------------------------------------------------------------


def bg_nbd_log_likelihood(
    parameters: np.ndarray, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Per-row log-likelihood of BG/NBD for parameters (r, alpha, a, b)."""
    r, alpha, a, b = parameters
    x, t_x = frequency, recency
    common = (
        special.gammaln(r + x)
        - special.gammaln(r)
        + r * np.log(alpha)
        + special.betaln(a, b + x)
        - special.betaln(a, b)
    )
    still_alive = -(r + x) * np.log(alpha + age)
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(
            x > 0,
            np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x),
            -np.inf,
        )
    return common + np.logaddexp(still_alive, dropped)


def _check_summary(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> None:
    if not (len(frequency) == len(recency) == len(age)):
        raise ValueError("frequency, recency and age must have the same length")
    if np.any(frequency < 0) or np.any(recency < 0) or np.any(recency > age):
        raise ValueError("the summary needs frequency >= 0 and 0 <= recency <= age")


def _fit(
    model_name: str,
    names: tuple[str, ...],
    objective: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    n_customers: int,
    n_distinct: int,
) -> FitResult:
    """Minimise ``objective`` with L-BFGS-B and package the result.

    ``objective`` returns the mean negative log-likelihood and its gradient, both with
    respect to the log parameters.
    """

    def guarded(log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, gradient = objective(log_parameters)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros_like(log_parameters)
        return value, gradient

    result = optimize.minimize(
        guarded,
        np.log(start),
        jac=True,
        method="L-BFGS-B",
        bounds=[(-12.0, 12.0)] * len(names),
        options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9},
    )
    estimates = np.exp(result.x)
    at_bound = np.any(np.abs(result.x) >= 12.0 - 1e-6)
    # a line search that stops on rounding noise at a stationary point has still converged
    stationary = bool(result.success) or float(np.max(np.abs(result.jac))) < 1e-7
    converged = stationary and not at_bound and result.fun < 1e300
    message = str(result.message)
    if at_bound:
        message = (
            "an estimate reached the bound of the search (exp(+-12)), so the data do not "
            f"identify the model; optimiser: {result.message}"
        )
    elif not converged:
        message = f"the optimiser stopped without converging: {result.message}"
    if not converged:
        warnings.warn(
            f"{model_name} fit did not converge ({message}; parameters "
            f"{dict(zip(names, estimates.round(6), strict=True))})",
            ClvConvergenceWarning,
            stacklevel=3,
        )
    return FitResult(
        model_name=model_name,
        parameters={name: float(value) for name, value in zip(names, estimates, strict=True)},
        log_likelihood=float(-result.fun * n_customers),
        n_customers=n_customers,
        n_distinct=n_distinct,
        converged=converged,
        message=message,
    )


class _BgNbdObjective:
    """Mean negative BG/NBD log-likelihood and its exact gradient on compressed rows.

    Per row, log L = A(x) - (r + x) log(alpha + T) + [x > 0] log(1 + e^z) with
    A(x) = log Gamma(r + x) - log Gamma(r) + r log alpha + log B(a, b + x) - log B(a, b) and
    z = log a - log(b + x - 1) - (r + x) (log(alpha + t_x) - log(alpha + T)). Everything
    but the last term is summed per distinct x or T; only that term touches every distinct
    repeat-buyer row, through look-ups into per-value tables.
    """

    def __init__(self, frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> None:
        (x_values, t_values, age_values), (xi, ti, age_i), weights = compress_codes(
            frequency, recency, age
        )
        self.n_customers = float(weights.sum())
        self.n_distinct = len(weights)
        self.x_values, self.t_values, self.age_values = x_values, t_values, age_values
        self.x_weight = np.bincount(xi, weights, minlength=len(x_values))
        self.age_weight = np.bincount(age_i, weights, minlength=len(age_values))
        self.age_x_weight = np.bincount(age_i, weights * x_values[xi], minlength=len(age_values))
        repeat = x_values[xi] > 0
        self.xi, self.ti, self.age_i = xi[repeat], ti[repeat], age_i[repeat]
        self.weights = weights[repeat]
        self.x = x_values[self.xi]

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_parameters)
        xv, nx = self.x_values, self.x_weight
        log_alpha_t = np.log(alpha + self.t_values)
        log_alpha_age = np.log(alpha + self.age_values)
        separable = (
            nx @ (special.gammaln(r + xv) + special.betaln(a, b + xv))
            - self.n_customers * (special.gammaln(r) - r * np.log(alpha) + special.betaln(a, b))
            - (r * self.age_weight + self.age_x_weight) @ log_alpha_age
        )
        with np.errstate(divide="ignore"):
            log_dropout = np.log(a) - np.log(b + xv - 1)
        u = log_alpha_t[self.ti] - log_alpha_age[self.age_i]
        r_x = r + self.x
        z = log_dropout[self.xi] - r_x * u
        # log(1 + e^z) and e^z / (1 + e^z) from one exponential, stable for any z
        tail = np.exp(-np.abs(z))
        value = separable + self.weights @ (np.maximum(z, 0.0) + np.log1p(tail))
        weighted_share = self.weights * np.where(z >= 0, 1.0, tail) / (1.0 + tail)
        share_by_x = np.bincount(self.xi, weighted_share, minlength=len(xv))
        inverse_t = 1.0 / (alpha + self.t_values)
        inverse_age = 1.0 / (alpha + self.age_values)
        digamma_ab = special.digamma(a + b)
        digamma_abx = special.digamma(a + b + xv)
        gradient = np.array(
            [
                nx @ special.digamma(r + xv)
                - self.n_customers * (special.digamma(r) - np.log(alpha))
                - self.age_weight @ log_alpha_age
                - weighted_share @ u,
                self.n_customers * r / alpha
                - (r * self.age_weight + self.age_x_weight) @ inverse_age
                - (weighted_share * r_x) @ (inverse_t[self.ti] - inverse_age[self.age_i]),
                nx @ (digamma_ab - digamma_abx) + weighted_share.sum() / a,
                nx @ (special.digamma(b + xv) - digamma_abx)
                + self.n_customers * (digamma_ab - special.digamma(b))
                - share_by_x[xv > 0] @ (1.0 / (b + xv[xv > 0] - 1)),
            ]
        )
        parameters = np.array([r, alpha, a, b])
        return -value / self.n_customers, -gradient * parameters / self.n_customers


class _GammaGammaObjective:
    """Mean negative Gamma-Gamma log-likelihood and its exact gradient on compressed rows.

    Per row, log L = log Gamma(px + q) - log Gamma(px) - log Gamma(q) + q log gamma
    + (px - 1) log m + px log x - (px + q) log(gamma + m x); the Gamma functions are
    evaluated per distinct x, only the last term per distinct (x, m).
    """

    def __init__(self, frequency: np.ndarray, monetary_value: np.ndarray) -> None:
        (x_values, m_values), (xi, mi), weights = compress_codes(frequency, monetary_value)
        self.n_customers = float(weights.sum())
        self.n_distinct = len(weights)
        self.x_values = x_values
        self.x_weight = np.bincount(xi, weights, minlength=len(x_values))
        self.xi, self.weights = xi, weights
        self.x = x_values[xi]
        self.mx = m_values[mi] * self.x
        log_m = np.log(m_values[mi])
        self.sum_x_log_m = weights @ (self.x * log_m)
        self.sum_log_m = weights @ log_m

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(log_parameters)
        xv, nx = self.x_values, self.x_weight
        px = p * xv
        log_gamma_mx = np.log(gamma + self.mx)
        rate = (p * self.x + q) * self.weights
        value = (
            nx @ (special.gammaln(px + q) - special.gammaln(px) + px * np.log(xv))
            + self.n_customers * (q * np.log(gamma) - special.gammaln(q))
            + p * self.sum_x_log_m
            - self.sum_log_m
            - rate @ log_gamma_mx
        )
        digamma_pxq = special.digamma(px + q)
        weighted_log = self.weights * log_gamma_mx
        gradient = np.array(
            [
                nx @ (xv * (digamma_pxq - special.digamma(px) + np.log(xv)))
                + self.sum_x_log_m
                - weighted_log @ self.x,
                nx @ digamma_pxq
                + self.n_customers * (np.log(gamma) - special.digamma(q))
                - weighted_log.sum(),
                self.n_customers * q / gamma - rate @ (1.0 / (gamma + self.mx)),
            ]
        )
        parameters = np.array([p, q, gamma])
        return -value / self.n_customers, -gradient * parameters / self.n_customers


def fit_bg_nbd(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> FitResult:
    """Fit BG/NBD by maximum likelihood on compressed (x, t_x, age) rows."""
    frequency, recency, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    _check_summary(frequency, recency, age)
    if len(frequency) < 2:
        raise ClvFitError("BG/NBD needs at least two customers")
    if not np.any(frequency > 0):
        raise ClvFitError("BG/NBD needs at least one repeat purchase: every customer bought once")
    objective = _BgNbdObjective(frequency, recency, age)
    # sorted, so the start (and thus the optimiser's path) does not depend on row order
    start = np.array([1.0, float(np.mean(np.sort(age))) or 1.0, 1.0, 1.0])
    return _fit("bg_nbd", BG_NBD_PARAMETERS, objective, start, len(age), objective.n_distinct)


def probability_alive(
    parameters: dict[str, float], frequency: np.ndarray, recency: np.ndarray, age: np.ndarray
) -> np.ndarray:
    """Return P(the customer is still active | x, t_x, T) under BG/NBD."""
    r, alpha, a, b = (parameters[name] for name in BG_NBD_PARAMETERS)
    x = np.asarray(frequency, dtype=float)
    log_ratio = (
        np.log(a)
        - np.log(np.maximum(b + x - 1, 1e-300))
        + (r + x) * (np.log(alpha + np.asarray(age)) - np.log(alpha + np.asarray(recency)))
    )
    return np.where(x > 0, 1.0 / (1.0 + np.exp(np.minimum(log_ratio, 700))), 1.0)


def expected_purchases(
    parameters: dict[str, float],
    horizon: float,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
) -> np.ndarray:
    """Return the expected purchases in the next ``horizon`` periods.

    The closed form holds for any a other than 1 (checked against simulation for a < 1 in
    the tests); at a = 1 it is 0/0, so a is nudged off 1 by 1e-9.
    """
    r, alpha, a, b = (parameters[name] for name in BG_NBD_PARAMETERS)
    if abs(a - 1) < 1e-9:
        a = 1 + 1e-9
    x = np.asarray(frequency, dtype=float)
    age = np.asarray(age, dtype=float)
    hypergeometric = special.hyp2f1(r + x, b + x, a + b + x - 1, horizon / (alpha + age + horizon))
    numerator = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + age) / (alpha + age + horizon)) ** (r + x) * hypergeometric)
    )
    return numerator * probability_alive(parameters, frequency, recency, age)


# ---- Gamma-Gamma ------------------------------------------------------------------------


def gamma_gamma_log_likelihood(
    parameters: np.ndarray, frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """Per-row log-likelihood of the Gamma-Gamma model for parameters (p, q, gamma)."""
    p, q, gamma = parameters
    x, m = frequency, monetary_value
    return (
        special.gammaln(p * x + q)
        - special.gammaln(p * x)
        - special.gammaln(q)
        + q * np.log(gamma)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(gamma + m * x)
    )


def fit_gamma_gamma(frequency: np.ndarray, monetary_value: np.ndarray) -> FitResult:
    """Fit Gamma-Gamma on repeat buyers (x >= 1, mean repeat value > 0)."""
    frequency = np.asarray(frequency, dtype=float)
    monetary_value = np.asarray(monetary_value, dtype=float)
    usable = (frequency > 0) & (monetary_value > 0)
    if usable.sum() < 2:
        raise ClvFitError("Gamma-Gamma needs at least two repeat buyers with a positive value")
    frequency, monetary_value = frequency[usable], monetary_value[usable]
    objective = _GammaGammaObjective(frequency, monetary_value)
    start = np.array([1.0, 1.0, float(np.mean(np.sort(monetary_value)))])
    return _fit(
        "gamma_gamma",
        GAMMA_GAMMA_PARAMETERS,
        objective,
        start,
        len(frequency),
        objective.n_distinct,
    )


def expected_average_value(
    parameters: dict[str, float], frequency: np.ndarray, monetary_value: np.ndarray
) -> np.ndarray:
    """Return the expected value of a future purchase given x purchases of mean m_x."""
    p, q, gamma = (parameters[name] for name in GAMMA_GAMMA_PARAMETERS)
    x = np.asarray(frequency, dtype=float)
    m = np.nan_to_num(np.asarray(monetary_value, dtype=float))
    population_mean = p * gamma / (q - 1) if q > 1 else np.nan
    conditional = (gamma + m * x) * p / (p * x + q - 1)
    return np.where(x > 0, conditional, population_mean)


# ---- per-customer predictions -------------------------------------------------------------


@dataclass(frozen=True)
class ValueSettings:
    """How far ahead to predict and how to discount it.

    ``horizon`` and ``holdout`` are in the summary's time unit; ``periods_per_year`` converts
    that unit to years for the annual discount rate. Value is discounted in steps of
    ``periods_per_year / 12`` (about a month): the purchases expected within a step are
    valued at the end of it.
    """

    horizon: float
    periods_per_year: float
    annual_discount_rate: float = 0.0
    holdout: float = 0.0


def _step_ends(horizon: float, step: float) -> np.ndarray:
    count = max(int(np.ceil(horizon / step - 1e-9)), 1)
    return np.minimum(np.arange(1, count + 1) * step, horizon)


def predict_customers(
    bg_nbd: dict[str, float],
    gamma_gamma: dict[str, float] | None,
    settings: ValueSettings,
    frequency: np.ndarray,
    recency: np.ndarray,
    age: np.ndarray,
    monetary_value: np.ndarray,
) -> dict[str, np.ndarray]:
    """Return per-customer P(alive), expected purchases, average value and discounted CLV.

    Keys: ``p_alive``, ``expected_purchases`` (next ``horizon``), ``expected_average_value``,
    ``predicted_clv`` (discounted value over ``horizon``), and, when ``holdout`` > 0,
    ``expected_holdout_purchases`` and ``expected_holdout_value`` (undiscounted, next
    ``holdout``) for backtests. The BG/NBD terms are computed once per distinct
    (x, t_x, T); without Gamma-Gamma parameters the value columns are NaN.
    """
    frequency, recency, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    monetary_value = np.asarray(monetary_value, dtype=float)
    _check_summary(frequency, recency, age)
    n = len(frequency)
    stacked = np.column_stack([frequency, recency, age]) if n else np.empty((0, 3))
    distinct, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    x, t_x, t = distinct[:, 0], distinct[:, 1], distinct[:, 2]

    def cumulative(horizon: float) -> np.ndarray:
        return expected_purchases(bg_nbd, horizon, x, t_x, t)

    step_ends = _step_ends(settings.horizon, settings.periods_per_year / 12)
    purchases_by_step = np.vstack([np.zeros_like(x), *[cumulative(end) for end in step_ends]])
    discount = (1 + settings.annual_discount_rate) ** (-step_ends / settings.periods_per_year)
    discounted_purchases = np.diff(purchases_by_step, axis=0).T @ discount
    if gamma_gamma is not None:
        average_value = expected_average_value(gamma_gamma, frequency, monetary_value)
    else:
        average_value = np.full(n, np.nan)
    predictions = {
        "p_alive": probability_alive(bg_nbd, x, t_x, t)[inverse],
        "expected_purchases": purchases_by_step[-1][inverse],
        "expected_average_value": average_value,
        "predicted_clv": discounted_purchases[inverse] * average_value,
    }
    if settings.holdout > 0:
        holdout_purchases = cumulative(settings.holdout)[inverse]
        predictions["expected_holdout_purchases"] = holdout_purchases
        predictions["expected_holdout_value"] = holdout_purchases * average_value
    return predictions
