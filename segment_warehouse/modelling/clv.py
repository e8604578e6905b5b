"""Customer lifetime value models: BG/NBD for purchases and Gamma-Gamma for spend.

Both are fitted by maximum likelihood on a per-customer summary built in SQL:

* ``frequency`` (x): repeat purchase periods (purchases after the first, same-day purchases
  merged),
* ``recency`` (t_x): time from the first to the last purchase,
* ``age`` (T in the papers): time from the first purchase to the as-of date,
* ``monetary_value``: mean value of the repeat purchases (Gamma-Gamma only).

Up to LARGE_FIT_ROWS customers, identical rows are compressed with weights and the
distinct ones fitted with L-BFGS-B. Above it, compressing would cost more than the fit, so
every row is evaluated, and as few times as possible: the search starts at a subsample's
optimum and Newton steps on growing samples reach the optimum of all rows in two to four
evaluations (see LARGE_FIT_ROWS). Log-likelihoods are computed in log space with
``scipy.special`` functions; parameters are optimised on the log scale.

References: Fader, Hardie and Lee (2005), "Counting your customers the easy way: an
alternative to the Pareto/NBD model", Marketing Science 24(2); Fader, Hardie and Lee (2005),
"RFM and CLV: using iso-value curves for customer base analysis", Journal of Marketing
Research 42(4); Fader and Hardie (2013), "The Gamma-Gamma model of monetary value".
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special
from threadpoolctl import ThreadpoolController

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
    # rows the likelihood was evaluated on: the distinct summaries, or every customer
    # above LARGE_FIT_ROWS
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
    # a minimum is one pass over the values where a comparison writes a mask and reads it
    negative = min(frequency.min(initial=0.0), recency.min(initial=0.0)) < 0
    if negative or np.any(recency > age):
        raise ValueError("the summary needs frequency >= 0 and 0 <= recency <= age")


# Up to this many rows, identical summaries are compressed and the fit runs on the distinct
# ones with L-BFGS-B. Above it, compressing costs more than the whole fit it would shorten
# (hashing a million summaries with 600,000 distinct takes about 0.2 s, evaluating the
# likelihood of every row about 15 ms), so every row is evaluated, as few times as possible:
# L-BFGS-B on every k-th row (about SUBSAMPLE_ROWS rows), then Newton steps on samples
# SUBSAMPLE_GROWTH times larger up to all rows, each starting at the previous optimum with
# the previous Hessian (the first by finite differences of the exact gradient, then updated
# by BFGS). All rows then take two or three evaluations.
LARGE_FIT_ROWS = 200_000
SUBSAMPLE_ROWS = 20_000
SUBSAMPLE_GROWTH = 8
# Newton steps end when a step moves no log parameter by the tolerance, or when the next
# step is predicted to (each step shrinks the distance 40 to 1,000 times, so the next is
# about this step times its ratio to the one before): on a subsample, once the step is
# well below the subsample's own sampling error; on all rows, at 1e-7. That last step is
# taken without evaluating its end, which leaves the estimates within about 1e-7 relative
# of the optimum, ten times inside the 1e-6 the fits are held to against lifetimes (itself
# accurate to about 1e-8), and saves a pass over every row.
SUBSAMPLE_STEP_TOLERANCE = 1e-4
NEWTON_STEP_TOLERANCE = 1e-7
NEWTON_MAX_STEPS = 30
# L-BFGS-B stopping with a gradient above this (mean log-likelihood per log parameter) has
# stalled on a ridge rather than found an optimum (at one, the gradient is below 1e-7)
STALLED_GRADIENT = 1e-5
RESTARTS = 5
LOG_PARAMETER_BOUND = 12.0

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass(frozen=True)
class _Optimum:
    """Where a search stopped: log parameters, objective, gradient and the optimiser's word."""

    x: np.ndarray
    fun: float
    jac: np.ndarray
    success: bool
    message: str

    @property
    def at_bound(self) -> bool:
        return bool(np.any(np.abs(self.x) >= LOG_PARAMETER_BOUND - 1e-6))

    @property
    def converged(self) -> bool:
        # a line search that stops on rounding noise at a stationary point has still converged
        stationary = self.success or float(np.max(np.abs(self.jac))) < 1e-7
        return stationary and not self.at_bound and self.fun < 1e300


def _guarded(objective: Objective) -> Objective:
    """Return ``objective`` with non-finite values replaced by a wall the search turns from."""

    def guarded(log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            value, gradient = objective(log_parameters)
        if not (np.isfinite(value) and np.all(np.isfinite(gradient))):
            return 1e300, np.zeros_like(log_parameters)
        return value, gradient

    return guarded


def _minimise(objective: Objective, log_start: np.ndarray) -> _Optimum:
    """Minimise ``objective`` over log parameters with L-BFGS-B and exact gradients.

    L-BFGS-B also stops when an iteration barely lowers the objective, which on a flat
    ridge (data that do not identify the model) happens far from any optimum, with a
    gradient still large: the search is then restarted from where it stopped, a few times,
    so that where it ends (an optimum or the bound) does not depend on rounding.
    """
    optimum = None
    for _ in range(RESTARTS):
        result = optimize.minimize(
            _guarded(objective),
            log_start,
            jac=True,
            method="L-BFGS-B",
            bounds=[(-LOG_PARAMETER_BOUND, LOG_PARAMETER_BOUND)] * len(log_start),
            options={"maxiter": 5000, "ftol": 1e-14, "gtol": 1e-9},
        )
        optimum = _Optimum(
            result.x, float(result.fun), result.jac, bool(result.success), str(result.message)
        )
        stalled = optimum.success and float(np.max(np.abs(optimum.jac))) > STALLED_GRADIENT
        if not stalled or optimum.at_bound:
            return optimum
        log_start = optimum.x
    return optimum


def _hessian(objective: Objective, log_parameters: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Return the Hessian of ``objective`` by forward differences of its exact gradient."""
    _, gradient = _guarded(objective)(log_parameters)
    columns = [
        (_guarded(objective)(log_parameters + step * unit)[1] - gradient) / step
        for unit in np.eye(len(log_parameters))
    ]
    hessian = np.array(columns)
    return (hessian + hessian.T) / 2


def _newton(
    objective: Objective, x: np.ndarray, hessian: np.ndarray, tolerance: float
) -> tuple[_Optimum, np.ndarray] | None:
    """Refine ``x`` to the optimum of ``objective`` by Newton steps; return it and the Hessian.

    ``hessian`` approximates the objective's Hessian (a subsample's) and is updated by BFGS
    from each step's change in gradient. The search ends with a step that is taken without
    evaluating its end: one that moves no log parameter by ``tolerance``, or one after which
    the next step is predicted to (the steps shrink geometrically: the next is about this
    one times its ratio to the previous one, and the distance left to the optimum is about
    the next step). The returned objective and gradient are those of the point before the
    last step (the objective differs by about the square of the step). Returns None when a
    step does not decrease the objective, leaves the search box or the steps do not
    settle, so that the caller falls back to L-BFGS-B.
    """
    guarded = _guarded(objective)
    value, gradient = guarded(x)
    previous_size = None
    for steps in range(NEWTON_MAX_STEPS):
        step = -np.linalg.solve(hessian, gradient)
        candidate = x + step
        if np.any(np.abs(candidate) >= LOG_PARAMETER_BOUND) or value >= 1e300:
            return None
        size = float(np.max(np.abs(step)))
        # the next step is about size * (size / previous_size) when the steps shrink
        settling = previous_size is not None and size < previous_size
        if size < tolerance or (settling and size * size < tolerance * previous_size):
            message = f"converged after {steps + 1} Newton steps"
            return _Optimum(candidate, value, gradient, True, message), hessian
        previous_size = size
        new_value, new_gradient = guarded(candidate)
        # a step that raises the objective beyond rounding is not converging
        if not new_value <= value + 1e-12 * max(1.0, abs(value)):
            return None
        change = new_gradient - gradient
        curvature = float(step @ change)
        if curvature > 0 and np.max(np.abs(step)) > 1e-7:
            projected = hessian @ step
            hessian = (
                hessian
                - np.outer(projected, projected) / float(step @ projected)
                + np.outer(change, change) / curvature
            )
        x, value, gradient = candidate, new_value, new_gradient
    return None


@functools.cache
def _native_threads() -> ThreadpoolController:
    """Return the process's native thread pools, found once per process.

    Finding them resolves the path of every loaded library: 10 to 15 ms in a fresh process,
    2 ms on later calls. BLAS libraries loaded later are not seen; the fits use numpy's and
    scipy's, loaded with this module.
    """
    return ThreadpoolController()


def _fit(
    model_name: str,
    names: tuple[str, ...],
    objective_for: Callable[..., Objective],
    columns: tuple[np.ndarray, ...],
    start_for: Callable[..., np.ndarray],
) -> FitResult:
    """Fit a model by maximum likelihood and package the result.

    ``objective_for(*columns, weights)`` returns the mean negative log-likelihood of the
    rows and its gradient, both with respect to the log parameters; ``start_for(*columns)``
    gives the starting parameters. Up to LARGE_FIT_ROWS rows are compressed and fitted with
    L-BFGS-B; more are fitted by Newton steps from a subsample's optimum (see
    LARGE_FIT_ROWS), with L-BFGS-B on all rows as the fallback.
    """
    # one BLAS thread: a dot product of a million numbers gains nothing from a second thread,
    # and on a busy machine waiting for one costs up to a hundred times the product (L-BFGS-B's
    # small BLAS calls wait too: 3.5 ms a search instead of 1.2 beside a dbt build)
    with _native_threads().limit(limits=1, user_api="blas"):
        optimum, n_distinct = _search(objective_for, columns, start_for)
    return _report(model_name, names, optimum, len(columns[0]), n_distinct)


def _search(
    objective_for: Callable[..., Objective],
    columns: tuple[np.ndarray, ...],
    start_for: Callable[..., np.ndarray],
) -> tuple[_Optimum, int]:
    """Return the optimum of the rows and how many rows the likelihood was evaluated on."""
    n_customers = len(columns[0])
    if n_customers <= LARGE_FIT_ROWS:
        distinct, counts = compress(*columns)
        objective = objective_for(*distinct, counts)
        return _minimise(objective, np.log(start_for(*columns))), len(counts)
    # every stride-th row, strides shrinking by SUBSAMPLE_GROWTH down to 1 (all rows)
    strides = [-(-n_customers // SUBSAMPLE_ROWS)]
    while strides[-1] > 1:
        strides.append(-(-strides[-1] // SUBSAMPLE_GROWTH))
    samples = [tuple(np.ascontiguousarray(c[::stride]) for c in columns) for stride in strides]
    sample = objective_for(*samples[0], None)
    log_start = np.log(start_for(*samples[0]))
    optimum = _minimise(sample, log_start)
    best = optimum.x if optimum.converged else log_start
    refined = None
    if optimum.converged:
        hessian = _hessian(sample, optimum.x)
        if np.all(np.isfinite(hessian)) and np.min(np.linalg.eigvalsh(hessian)) > 0:
            refined = optimum, hessian
    objective = sample
    for level, stride in enumerate(strides[1:], start=1):
        objective = objective_for(*samples[level], None)
        if refined is not None:
            best = refined[0].x
            tolerance = NEWTON_STEP_TOLERANCE if stride == 1 else SUBSAMPLE_STEP_TOLERANCE
            refined = _newton(objective, refined[0].x, refined[1], tolerance)
    if refined is None:
        return _minimise(objective, best), n_customers
    optimum = refined[0]
    message = f"{optimum.message} on all rows from the optimum of every {strides[0]}th row"
    return _Optimum(optimum.x, optimum.fun, optimum.jac, True, message), n_customers


def _report(
    model_name: str, names: tuple[str, ...], optimum: _Optimum, n_customers: int, n_distinct: int
) -> FitResult:
    """Package an optimum as a FitResult, warning when it did not converge."""
    estimates = np.exp(optimum.x)
    message = optimum.message
    if optimum.at_bound:
        message = (
            "an estimate reached the bound of the search (exp(+-12)), so the data do not "
            f"identify the model; optimiser: {optimum.message}"
        )
    elif not optimum.converged:
        message = f"the optimiser stopped without converging: {optimum.message}"
    if not optimum.converged:
        warnings.warn(
            f"{model_name} fit did not converge ({message}; parameters "
            f"{dict(zip(names, estimates.round(6), strict=True))})",
            ClvConvergenceWarning,
            stacklevel=4,
        )
    return FitResult(
        model_name=model_name,
        parameters={name: float(value) for name, value in zip(names, estimates, strict=True)},
        log_likelihood=float(-optimum.fun * n_customers),
        n_customers=n_customers,
        n_distinct=n_distinct,
        converged=optimum.converged,
        message=message,
    )


def _value_codes(values: np.ndarray, zero: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted distinct values and each element's index into them.

    Whole numbers (purchase counts) are counted into bins, which is several times faster
    than hashing; anything else is factorised. With ``zero``, 0 is the first distinct value
    whether or not it occurs (the values are then positive: the purchase counts of repeat
    buyers, whose per-x tables hold the one-time buyers first).
    """
    if len(values) and values.min() >= 0 and values.max() <= 1e6:
        whole = np.empty(len(values), dtype=np.int64)
        # block by block, so that the comparison's temporary arrays stay in the cache
        for rows in _row_blocks(len(values)):
            whole[rows] = values[rows]
            if not np.array_equal(whole[rows], values[rows]):
                break
        else:
            present = np.bincount(whole) > 0
            present[0] |= zero
            lowest = int(np.argmax(present))
            if present[lowest:].all():
                codes = whole - lowest if lowest else whole
                return np.arange(lowest, len(present), dtype=float), codes
            return np.flatnonzero(present).astype(float), (np.cumsum(present) - 1)[whole]
    distinct, codes = _factorize(values)
    if zero:
        return np.concatenate([[0.0], distinct]), codes + 1
    return distinct, codes


def _weighted_sum(weights: np.ndarray | None, values: np.ndarray) -> float:
    """Return the sum of ``values``, weighted unless ``weights`` is None (all ones)."""
    return float(values.sum() if weights is None else weights @ values)


# _grid_codes finds the grid's step in the distinct values of about this many rows
GRID_SAMPLE_ROWS = 4096
# BG/NBD evaluates the repeat buyers in blocks of this many rows: the block's five per-row
# arrays (1.25 MiB) stay in the core's cache between the twenty-odd steps that read them
BLOCK_ROWS = 32_768


def _row_blocks(n_rows: int) -> list[slice]:
    """Return consecutive slices of BLOCK_ROWS rows (the last shorter) covering the rows."""
    return [slice(start, min(start + BLOCK_ROWS, n_rows)) for start in range(0, n_rows, BLOCK_ROWS)]


def _block_of(buffer: np.ndarray, rows: slice) -> np.ndarray:
    """Return the start of a block-sized buffer, as long as the block ``rows``."""
    return buffer[: rows.stop - rows.start]


def _grid_codes(values: np.ndarray, max_values: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Return a table of values and each element's index into it, or None if it would be long.

    Day-granular times (whole days, or whole days / 7 in weeks) lie on a grid: each value is
    given the index of its multiple of the smallest gap between the distinct values of a
    sample, and the table holds the value at each index (unused indices hold 0). Whether
    every element equals its table entry is checked, so values off the grid (or a sample
    that missed the finest gap) give None, as does a table over ``max_values`` entries.
    Several times faster than hashing, and exact: ``table[codes]`` equals ``values``.
    """
    if not len(values):
        return None
    sample = np.unique(values[:: max(len(values) // GRID_SAMPLE_ROWS, 1)])
    gaps = np.diff(sample)
    step = float(gaps.min()) if len(gaps) else 1.0
    lowest, highest = float(values.min()), float(values.max())
    if not (step > 0 and lowest >= 0 and highest / step < max_values):
        return None
    table = np.zeros(int(np.rint(highest / step)) + 1)
    codes = np.empty(len(values), dtype=np.intp)
    # block by block, so that the temporary arrays stay in the cache
    scaled = np.empty(min(len(values), BLOCK_ROWS))
    blocks = _row_blocks(len(values))
    for rows in blocks:
        block = _block_of(scaled, rows)
        codes[rows] = np.rint(np.divide(values[rows], step, out=block), out=block)
        table[codes[rows]] = values[rows]
    # a value that shares its index with a different one is not its table entry
    for rows in blocks:
        block = np.take(table, codes[rows], out=_block_of(scaled, rows), mode="clip")
        if np.not_equal(block, values[rows]).any():
            return None
    return table, codes


class _BgNbdObjective:
    """Mean negative BG/NBD log-likelihood and its exact gradient on weighted rows.

    Per row, log L = A(x) - (r + x) log(alpha + T) + [x > 0] log(1 + e^z) with
    A(x) = log Gamma(r + x) - log Gamma(r) + r log alpha + log B(a, b + x) - log B(a, b) and
    z = log a - log(b + x - 1) - (r + x) (log(alpha + t_x) - log(alpha + T)). Rows are the
    distinct summaries with their counts as weights, or every customer (weights None). The
    Gamma and Beta functions are evaluated per distinct x. When T and t_x take few values
    (day-granular data, see ``_grid_codes``), the logarithms and reciprocals of alpha + T
    and alpha + t_x are evaluated per value and gathered per row, which leaves a repeat
    buyer one exponential and one logarithm of its own; else they are evaluated per row
    (``by_value=False`` forces that, for tests). The repeat buyers are evaluated in blocks
    of BLOCK_ROWS rows, in buffers allocated once.
    """

    def __init__(
        self,
        frequency: np.ndarray,
        recency: np.ndarray,
        age: np.ndarray,
        weights: np.ndarray | None = None,
        by_value: bool = True,
    ) -> None:
        repeat = np.flatnonzero(frequency > 0)
        x = frequency[repeat]
        self.weights = None if weights is None else weights[repeat]
        self.n_customers = float(len(frequency) if weights is None else weights.sum())
        self.n_distinct = len(frequency)
        # one-time buyers (x = 0) join the per-x tables as their first entry
        self.x_values, self.xi = _value_codes(x, zero=True)
        x_weight = np.bincount(self.xi, self.weights, minlength=len(self.x_values))
        self.x_weight = x_weight.astype(float)
        self.x_weight[0] = self.n_customers - x_weight[1:].sum()
        # a table as long as a quarter of the rows would save little
        max_values = len(frequency) // 4
        age_grid = _grid_codes(age, max_values) if by_value else None
        recency_grid = None
        if age_grid is not None:
            recency_grid = _grid_codes(recency[repeat], max_values)
        self.by_value = recency_grid is not None
        if self.by_value:
            # per value of T: the weight of every customer, and of the repeat buyers' x
            self.age_values, age_codes = age_grid
            weighted_frequency = frequency if weights is None else weights * frequency
            self.age_weight = np.bincount(age_codes, weights, minlength=len(self.age_values))
            self.age_x_weight = np.bincount(
                age_codes, weighted_frequency, minlength=len(self.age_values)
            )
            self.age_codes = age_codes[repeat]
            self.recency_values, self.recency_codes = recency_grid
        else:
            self.age = age[repeat]
            self.recency = recency[repeat]
            once = np.flatnonzero(frequency <= 0)
            self.once_age = age[once]
            self.once_weights = None if weights is None else weights[once]
            self.weighted_x = x if weights is None else self.weights * x
            self._once = np.empty(len(once))
        self._blocks = _row_blocks(len(repeat))
        self._buffers = [np.empty(min(len(repeat), BLOCK_ROWS)) for _ in range(5)]

    def _age_sums(self, alpha: float) -> tuple[list[np.ndarray], np.ndarray]:
        """Return tables per value of T and t_x, and sums of the terms in alpha + T.

        The tables (per value only) are log(alpha + T), log(alpha + t_x), 1 / (alpha + T)
        and 1 / (alpha + t_x). The sums, weighted, are of log(alpha + T), x log(alpha + T),
        1 / (alpha + T) and x / (alpha + T): over every customer per value, else over the
        one-time buyers only (the blocks add the repeat buyers).
        """
        if self.by_value:
            tables = [
                function(alpha + values)
                for function in (np.log, np.reciprocal)
                for values in (self.age_values, self.recency_values)
            ]
            sums = [
                float(weight @ table)
                for table in tables[::2]
                for weight in (self.age_weight, self.age_x_weight)
            ]
            return tables, np.array(sums)
        sums = []
        for function in (np.log, np.reciprocal):
            once = function(np.add(alpha, self.once_age, out=self._once), out=self._once)
            sums += [_weighted_sum(self.once_weights, once), 0.0]
        return [], np.array(sums)

    def _differences(
        self,
        function: Callable[..., np.ndarray],
        alpha: float,
        rows: slice,
        tables: list[np.ndarray],
        out: np.ndarray,
        work: np.ndarray,
    ) -> tuple[float, float]:
        """Write f(alpha + t_x) - f(alpha + T) of a block's repeat buyers into ``out``.

        Per row, also return the block's weighted sums of f(alpha + T) and x f(alpha + T).
        """
        if self.by_value:
            by_age, by_recency = tables
            np.take(by_recency, self.recency_codes[rows], out=out, mode="clip")
            out -= np.take(by_age, self.age_codes[rows], out=work, mode="clip")
            return 0.0, 0.0
        weights = None if self.weights is None else self.weights[rows]
        by_age = function(np.add(alpha, self.age[rows], out=work), out=work)
        sums = _weighted_sum(weights, by_age), float(self.weighted_x[rows] @ by_age)
        function(np.add(alpha, self.recency[rows], out=out), out=out)
        out -= by_age
        return sums

    def _block(
        self,
        rows: slice,
        alpha: float,
        tables: list[np.ndarray],
        xr_by_x: np.ndarray,
        log_dropout: np.ndarray,
    ) -> tuple[float, np.ndarray, float, float, tuple[float, ...]]:
        """Return the terms a block of repeat buyers adds, weighted.

        They are the sum of log(1 + e^z); the sums by x of s = e^z / (1 + e^z); the sums of
        s u and of (r + x) s du / d alpha; and, per row, the sums of ``_age_sums``.
        """
        xi = self.xi[rows]
        u, z, xr, share, work = (_block_of(buffer, rows) for buffer in self._buffers)
        weights = None if self.weights is None else self.weights[rows]
        # u = log(alpha + t_x) - log(alpha + T) <= 0
        log_sums = self._differences(np.log, alpha, rows, tables[:2], u, work)
        np.take(xr_by_x, xi, out=xr, mode="clip")
        np.take(log_dropout, xi, out=z, mode="clip")
        z -= np.multiply(xr, u, out=work)
        # with 1 + e = 1 + e^-|z| in (1, 2]: log(1 + e^z) = max(z, 0) + log(1 + e), and
        # e^z / (1 + e^z) is 1 / (1 + e) when z >= 0, else 1 - 1 / (1 + e), that is
        # 1/2 + sign(z) (1 / (1 + e) - 1/2): one exponential and one logarithm per row (numpy's
        # log is vectorised and log1p is not; near e = 0 the two differ by 1e-16)
        one_plus = np.copysign(z, -1.0, out=share)
        # max(z, 0) sums to half the sums of z and |z|
        softplus = (_weighted_sum(weights, z) - _weighted_sum(weights, one_plus)) / 2
        np.exp(one_plus, out=one_plus)
        one_plus += 1.0
        softplus += _weighted_sum(weights, np.log(one_plus, out=work))
        # 1 / (1 + e) - 1/2 >= 0, so it takes the sign of z
        np.reciprocal(one_plus, out=share)
        share -= 0.5
        np.copysign(share, z, out=share)
        share += 0.5
        if weights is not None:
            share *= weights
        share_by_x = np.bincount(xi, share, minlength=len(log_dropout))
        share_u = float(share @ u)
        # d u / d alpha = 1 / (alpha + t_x) - 1 / (alpha + T)
        inverse_sums = self._differences(np.reciprocal, alpha, rows, tables[2:], u, work)
        xr *= share
        return softplus, share_by_x, share_u, float(xr @ u), log_sums + inverse_sums

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        r, alpha, a, b = np.exp(log_parameters)
        xv, nx = self.x_values, self.x_weight
        # the entry of x = 0 (b - 1, at most 0 when b <= 1) is never read
        with np.errstate(divide="ignore", invalid="ignore"):
            log_dropout = np.log(a) - np.log(b + xv - 1)
        tables, age_sums = self._age_sums(alpha)
        softplus, share_u, share_du = 0.0, 0.0, 0.0
        share_by_x = np.zeros(len(xv))
        xr_by_x = xv + r
        for rows in self._blocks:
            block = self._block(rows, alpha, tables, xr_by_x, log_dropout)
            softplus += block[0]
            share_by_x += block[1]
            share_u += block[2]
            share_du += block[3]
            age_sums += block[4]
        sum_log_age, x_log_age, sum_inverse_age, x_inverse_age = age_sums
        value = (
            nx @ (special.gammaln(r + xv) + special.betaln(a, b + xv))
            - self.n_customers * (special.gammaln(r) - r * np.log(alpha) + special.betaln(a, b))
            - r * sum_log_age
            - x_log_age
            + softplus
        )
        digamma_ab = special.digamma(a + b)
        digamma_abx = special.digamma(a + b + xv)
        gradient = np.array(
            [
                nx @ special.digamma(r + xv)
                - self.n_customers * (special.digamma(r) - np.log(alpha))
                - sum_log_age
                - share_u,
                self.n_customers * r / alpha - r * sum_inverse_age - x_inverse_age - share_du,
                nx @ (digamma_ab - digamma_abx) + share_by_x.sum() / a,
                nx @ (special.digamma(b + xv) - digamma_abx)
                + self.n_customers * (digamma_ab - special.digamma(b))
                - share_by_x[1:] @ (1.0 / (b + xv[1:] - 1)),
            ]
        )
        parameters = np.array([r, alpha, a, b])
        return -value / self.n_customers, -gradient * parameters / self.n_customers


class _GammaGammaObjective:
    """Mean negative Gamma-Gamma log-likelihood and its exact gradient on weighted rows.

    Per row, log L = log Gamma(px + q) - log Gamma(px) - log Gamma(q) + q log gamma
    + (px - 1) log m + px log x - (px + q) log(gamma + m x); the Gamma functions are
    evaluated per distinct x, only the last term per row (distinct (x, m) with counts as
    weights, or every customer with weights None), in blocks of BLOCK_ROWS rows, in buffers
    allocated once.
    """

    def __init__(
        self,
        frequency: np.ndarray,
        monetary_value: np.ndarray,
        weights: np.ndarray | None = None,
    ) -> None:
        x_values, x_codes = _value_codes(frequency)
        self.n_customers = float(len(frequency) if weights is None else weights.sum())
        self.n_distinct = len(frequency)
        self.x_values = x_values
        self.x_weight = np.bincount(x_codes, weights, minlength=len(x_values))
        self.weights = weights
        self.weighted_x = frequency if weights is None else weights * frequency
        self.mx = monetary_value * frequency
        self._blocks = _row_blocks(len(frequency))
        self._buffers = [np.empty(min(len(frequency), BLOCK_ROWS)) for _ in range(2)]
        self.sum_log_m, self.sum_x_log_m = 0.0, 0.0
        for rows in self._blocks:
            log_m = np.log(monetary_value[rows], out=_block_of(self._buffers[0], rows))
            sum_log_m, sum_x_log_m = self._sums(rows, log_m)
            self.sum_log_m += sum_log_m
            self.sum_x_log_m += sum_x_log_m

    def _sums(self, rows: slice, values: np.ndarray) -> tuple[float, float]:
        """Return the weighted sums of a block's values and of x times its values."""
        weights = None if self.weights is None else self.weights[rows]
        return _weighted_sum(weights, values), float(self.weighted_x[rows] @ values)

    def __call__(self, log_parameters: np.ndarray) -> tuple[float, np.ndarray]:
        p, q, gamma = np.exp(log_parameters)
        xv, nx = self.x_values, self.x_weight
        px = p * xv
        # weighted sums of log(gamma + m x), x log(gamma + m x), 1 / (gamma + m x) and
        # x / (gamma + m x)
        sums = np.zeros(4)
        for rows in self._blocks:
            gamma_mx, work = (_block_of(buffer, rows) for buffer in self._buffers)
            np.add(gamma, self.mx[rows], out=gamma_mx)
            sums[:2] += self._sums(rows, np.log(gamma_mx, out=work))
            sums[2:] += self._sums(rows, np.reciprocal(gamma_mx, out=work))
        sum_log, sum_x_log, sum_inverse, sum_x_inverse = sums
        value = (
            nx @ (special.gammaln(px + q) - special.gammaln(px) + px * np.log(xv))
            + self.n_customers * (q * np.log(gamma) - special.gammaln(q))
            + p * self.sum_x_log_m
            - self.sum_log_m
            - p * sum_x_log
            - q * sum_log
        )
        digamma_pxq = special.digamma(px + q)
        gradient = np.array(
            [
                nx @ (xv * (digamma_pxq - special.digamma(px) + np.log(xv)))
                + self.sum_x_log_m
                - sum_x_log,
                nx @ digamma_pxq
                + self.n_customers * (np.log(gamma) - special.digamma(q))
                - sum_log,
                self.n_customers * q / gamma - p * sum_x_inverse - q * sum_inverse,
            ]
        )
        parameters = np.array([p, q, gamma])
        return -value / self.n_customers, -gradient * parameters / self.n_customers


def fit_bg_nbd(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> FitResult:
    """Fit BG/NBD by maximum likelihood on (x, t_x, age) rows (compressed when few)."""
    frequency, recency, age = (np.asarray(v, dtype=float) for v in (frequency, recency, age))
    _check_summary(frequency, recency, age)
    if len(frequency) < 2:
        raise ClvFitError("BG/NBD needs at least two customers")
    if not np.any(frequency > 0):
        raise ClvFitError("BG/NBD needs at least one repeat purchase: every customer bought once")

    def start(frequency: np.ndarray, recency: np.ndarray, age: np.ndarray) -> np.ndarray:
        # sorted, so the start (and thus the optimiser's path) does not depend on row order
        return np.array([1.0, float(np.mean(np.sort(age))) or 1.0, 1.0, 1.0])

    return _fit("bg_nbd", BG_NBD_PARAMETERS, _BgNbdObjective, (frequency, recency, age), start)


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
    # positions, not a mask: taking rows by position is faster than by a mask
    usable = np.flatnonzero((frequency > 0) & (monetary_value > 0))
    if len(usable) < 2:
        raise ClvFitError("Gamma-Gamma needs at least two repeat buyers with a positive value")
    frequency, monetary_value = frequency[usable], monetary_value[usable]

    def start(frequency: np.ndarray, monetary_value: np.ndarray) -> np.ndarray:
        return np.array([1.0, 1.0, float(np.mean(np.sort(monetary_value)))])

    return _fit(
        "gamma_gamma",
        GAMMA_GAMMA_PARAMETERS,
        _GammaGammaObjective,
        (frequency, monetary_value),
        start,
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
