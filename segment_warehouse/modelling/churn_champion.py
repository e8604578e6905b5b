"""The published churn score: candidates evaluated out of time, calibrated, one champion.

Candidates (their names are ``model_name`` in ``marts.churn_model_evaluation``):

- ``classifier``: gradient-boosted trees on every churn feature (``churn.fit_classifier``);
- ``logistic_regression``: L2-regularised logistic regression on standardised RFM-style
  features (``LOGISTIC_FEATURES``: recency, frequency, monetary value, tenure and the
  orders of the last window, each log1p-transformed);
- ``p_alive_baseline``: 1 - BG/NBD P(alive);
- ``expected_purchases_baseline``: minus the BG/NBD expected purchases in the window;
- ``recency_baseline``: days since the last purchase, the trivial baseline (nothing fitted).

The two learned models are trained on the ``train`` cut-off with the labels of the window
after it; BG/NBD is fitted on the purchase histories of the ``test`` cut-off (no labels).
Every candidate scores the ``test`` cut-off, whose outcome it never saw: AUC and lift rank
its raw score. Each raw score is mapped to a probability by isotonic regression fitted on
the test window; its Brier score is computed on cross-fitted probabilities (each fold
calibrated on the other folds), so the calibrator is never judged on the rows it was fitted
on. BG/NBD counts as a model: it is fitted, so it has to earn its place against the trivial
baseline like the others (``choose_champion``).

Every candidate is fitted and evaluated on its own: whatever makes one fail (one class, too
few rows, NaN or constant scores, a fit the data cannot support) makes it not evaluable,
with the reason, and never stops the others. Everything is seeded and deterministic.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sklearn.impute import SimpleImputer
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from segment_warehouse.modelling import churn, clv

CLASSIFIER = "classifier"
LOGISTIC = "logistic_regression"
P_ALIVE = "p_alive_baseline"
EXPECTED_PURCHASES = "expected_purchases_baseline"
RECENCY = "recency_baseline"
#: Every candidate, in the order the evaluation lists them.
CANDIDATES = (CLASSIFIER, LOGISTIC, P_ALIVE, EXPECTED_PURCHASES, RECENCY)
#: Scores that need no fitting: the bar every model has to clear.
TRIVIAL_BASELINES = (RECENCY,)
#: On equal AUC and Brier score the simpler candidate wins (first in this order).
SIMPLICITY = (RECENCY, P_ALIVE, EXPECTED_PURCHASES, LOGISTIC, CLASSIFIER)

LOGISTIC_FEATURES = (
    "days_since_last_purchase",
    "purchase_days",
    "spend",
    "tenure_days",
    "recent_orders",
)
BG_NBD_DRIVERS = ("purchase_days", "days_since_last_purchase", "tenure_days")
#: Features a model may use but a reason code never quotes: the exact age is a
#: quasi-identifier, published only generalised (docs/privacy.md).
UNQUOTED_FEATURES = ("age_years",)
#: Columns the candidates read from a cut-off's rows (with ``is_churned`` for labels).
INPUT_COLUMNS = tuple(dict.fromkeys((*churn.FEATURES, "frequency", "recency", "age")))
#: The columns read from a cut-off of int_churn_features, as a select list.
WINDOW_COLUMNS = ", ".join(["customer_id", *INPUT_COLUMNS, "is_churned"])
MIN_EVALUATION_ROWS = 50
CALIBRATION_FOLDS = 5
TOP_DRIVERS = 3
#: Training rows the drivers' partial dependence is averaged over, and the quantiles of
#: each feature it is computed at (reason codes interpolate between them).
PROFILE_ROWS = 500
PROFILE_QUANTILES = np.linspace(0.0, 1.0, 21)
#: What a candidate's fit, scoring or calibration raises when the data cannot support it
#: (ChurnFitError, ClvFitError and scikit-learn's input errors are ValueErrors).
FIT_ERRORS = (ValueError, ArithmeticError, np.linalg.LinAlgError)


def kind(name: str) -> str:
    """Return ``trivial_baseline`` or ``model`` for a candidate name."""
    return "trivial_baseline" if name in TRIVIAL_BASELINES else "model"


# ---- the logistic model ---------------------------------------------------------------------


@dataclass(frozen=True)
class LogisticModel:
    """A fitted logistic regression on log1p RFM-style features."""

    pipeline: Pipeline
    features: tuple[str, ...]
    n_training_rows: int


def _log_features(rows: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    matrix = churn.feature_matrix(rows, features)
    return np.log1p(np.clip(matrix, 0, None))


def fit_logistic(
    rows: pd.DataFrame,
    churned: np.ndarray,
    *,
    seed: int,
    max_rows: int,
    features: tuple[str, ...] = LOGISTIC_FEATURES,
    regularisation: float = 1.0,
) -> LogisticModel:
    """Fit the logistic churn model on ``rows`` and 0/1 ``churned`` labels.

    Features are log1p-transformed (counts, days and money are right-skewed), missing values
    take the training median, and each is standardised; ``regularisation`` is the inverse L2
    strength (scikit-learn's ``C``). Same guards and sampling as ``churn.fit_classifier``.
    """
    churned = np.asarray(churned, dtype=int)
    if len(rows) != len(churned):
        raise ValueError("rows and churned must have the same length")
    if len(rows) < churn.MIN_TRAINING_ROWS:
        raise churn.ChurnFitError(
            f"logistic regression needs at least {churn.MIN_TRAINING_ROWS} labelled customers, "
            f"got {len(rows)}"
        )
    matrix = _log_features(rows, features)
    present = ~np.all(np.isnan(matrix), axis=0)
    if not present.any():
        raise churn.ChurnFitError("logistic regression: every feature is missing for everyone")
    features = tuple(name for name, keep in zip(features, present, strict=True) if keep)
    matrix = matrix[:, present]
    if len(rows) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_rows, replace=False))
        matrix, churned = matrix[keep], churned[keep]
    if len(np.unique(churned)) < 2:
        raise churn.ChurnFitError(
            "logistic regression needs both churned and retained customers among its rows"
        )
    pipeline = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("fit", LogisticRegression(C=regularisation, max_iter=1000)),
        ]
    )
    pipeline.fit(matrix, churned)
    return LogisticModel(pipeline=pipeline, features=features, n_training_rows=len(churned))


def predict_logistic(model: LogisticModel, rows: pd.DataFrame) -> np.ndarray:
    """Return each row's (uncalibrated) probability of churning under the logistic model."""
    if len(rows) == 0:
        return np.empty(0)
    return model.pipeline.predict_proba(_log_features(rows, model.features))[:, 1]


# ---- calibration and metrics ----------------------------------------------------------------


def fit_calibrator(scores: np.ndarray, churned: np.ndarray) -> IsotonicRegression:
    """Fit the monotone map from a raw score (higher = riskier) to a churn probability."""
    calibrator = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    return calibrator.fit(np.asarray(scores, dtype=float), np.asarray(churned, dtype=float))


def cross_fitted_probabilities(
    scores: np.ndarray, churned: np.ndarray, *, seed: int, folds: int = CALIBRATION_FOLDS
) -> np.ndarray:
    """Return calibrated probabilities where each row's calibrator never saw that row.

    The rows are split into ``folds`` seeded random folds; each fold is calibrated by the
    isotonic map fitted on the other folds.
    """
    scores, churned = np.asarray(scores, dtype=float), np.asarray(churned, dtype=float)
    fold_of = np.random.default_rng(seed).permutation(len(scores)) % folds
    probabilities = np.empty(len(scores))
    for fold in range(folds):
        held_out = fold_of == fold
        if held_out.any():
            calibrator = fit_calibrator(scores[~held_out], churned[~held_out])
            probabilities[held_out] = calibrator.predict(scores[held_out])
    return probabilities


def brier_score(probabilities: np.ndarray, churned: np.ndarray) -> float:
    """Return the mean squared difference between probabilities and 0/1 outcomes."""
    probabilities, churned = np.asarray(probabilities, float), np.asarray(churned, float)
    return float(np.mean((probabilities - churned) ** 2)) if len(churned) else float("nan")


def expected_calibration_error(
    probabilities: np.ndarray, truth: np.ndarray, bins: int = 10
) -> float:
    """Return the row-weighted mean |mean probability - mean truth| over equal-width bins.

    ``truth`` may be 0/1 outcomes or, on planted data, the true probabilities.
    """
    probabilities, truth = np.asarray(probabilities, float), np.asarray(truth, float)
    which = np.minimum((probabilities * bins).astype(int), bins - 1)
    error = 0.0
    for b in range(bins):
        inside = which == b
        if inside.any():
            error += inside.mean() * abs(probabilities[inside].mean() - truth[inside].mean())
    return float(error)


# ---- fitted candidates -----------------------------------------------------------------------


@dataclass(frozen=True)
class FittedCandidate:
    """A candidate ready to score rows: ``score`` gives the raw score (higher = riskier)."""

    name: str
    score: Callable[[pd.DataFrame], np.ndarray]
    drivers: tuple[str, ...]
    #: per driver, the training median that effects are measured against; None for
    #: candidates whose drivers are only quoted (BG/NBD, recency)
    reference: np.ndarray | None
    n_training_rows: int | None
    #: a seeded sample of training rows the drivers' partial dependence is averaged over
    profile_rows: pd.DataFrame | None = None


def _profile_sample(train: pd.DataFrame, seed: int) -> pd.DataFrame:
    if len(train) <= PROFILE_ROWS:
        return train.reset_index(drop=True)
    keep = np.sort(np.random.default_rng(seed).choice(len(train), PROFILE_ROWS, replace=False))
    return train.iloc[keep].reset_index(drop=True)


def _bg_nbd_parameters(history: pd.DataFrame) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", clv.ClvConvergenceWarning)
        fit = clv.fit_bg_nbd(history["frequency"], history["recency"], history["age"])
    return fit.parameters


def training_windows(
    features: Any, *, seed: int, max_rows: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the ``train`` and ``test`` cut-offs of int_churn_features (a DuckDB relation).

    The training sample (at most ``max_rows``, seeded) is drawn in DuckDB; the test window
    is read whole. Both are ordered by customer id, so the same rows give the same models.
    """
    train = (
        features.filter("cutoff_role = 'train'")
        .project(WINDOW_COLUMNS)
        .order(f"hash(customer_id, {seed})")
        .limit(max_rows)
        .order("customer_id")
        .df()
    )
    test = features.filter("cutoff_role = 'test'").project(WINDOW_COLUMNS).order("customer_id").df()
    return train, test


def _quotable(features: Sequence[str]) -> tuple[str, ...]:
    """Return the features a learned candidate's reason codes may name (not UNQUOTED_FEATURES)."""
    return tuple(feature for feature in features if feature not in UNQUOTED_FEATURES)


def fit_candidate(
    name: str,
    train: pd.DataFrame,
    history: pd.DataFrame,
    *,
    seed: int,
    max_rows: int,
    window: float,
) -> FittedCandidate:
    """Fit one candidate: learned models on ``train`` (labelled), BG/NBD on ``history``.

    ``window`` is the churn window in the BG/NBD time unit (for expected purchases).

    Raises:
        ChurnFitError, ClvFitError, ValueError: the data cannot support this candidate.

    """
    if name == CLASSIFIER:
        model = churn.fit_classifier(train, train["is_churned"], seed=seed, max_rows=max_rows)
        drivers = _quotable(model.features)
        reference = np.nanmedian(churn.feature_matrix(train, drivers), axis=0)
        return FittedCandidate(
            name, lambda rows: churn.predict_churn(model, rows), drivers, reference,
            len(train), _profile_sample(train, seed),
        )  # fmt: skip
    if name == LOGISTIC:
        logistic = fit_logistic(train, train["is_churned"], seed=seed, max_rows=max_rows)
        drivers = _quotable(logistic.features)
        reference = np.nanmedian(churn.feature_matrix(train, drivers), axis=0)
        return FittedCandidate(
            name, lambda rows: predict_logistic(logistic, rows), drivers, reference,
            len(train), _profile_sample(train, seed),
        )  # fmt: skip
    if name in (P_ALIVE, EXPECTED_PURCHASES):
        parameters = _bg_nbd_parameters(history)

        def bg_nbd_score(rows: pd.DataFrame) -> np.ndarray:
            summary = (rows["frequency"], rows["recency"], rows["age"])
            if name == P_ALIVE:
                return 1 - clv.probability_alive(parameters, *summary)
            return -clv.expected_purchases(parameters, window, *summary)

        return FittedCandidate(name, bg_nbd_score, BG_NBD_DRIVERS, None, None)
    if name == RECENCY:
        return FittedCandidate(
            name,
            lambda rows: rows["days_since_last_purchase"].to_numpy(dtype=float, na_value=np.nan),
            ("days_since_last_purchase",),
            None,
            None,
        )
    raise ValueError(f"unknown churn candidate {name!r}")


# ---- evaluation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateEvaluation:
    """One candidate's out-of-time evaluation on the test cut-off."""

    name: str
    is_evaluable: bool
    message: str
    auc: float = float("nan")
    precision_at_top_decile: float = float("nan")
    lift_at_top_decile: float = float("nan")
    brier_score: float = float("nan")
    churn_rate: float = float("nan")
    n_training_rows: int | None = None

    @property
    def kind(self) -> str:
        """``trivial_baseline`` or ``model``."""
        return kind(self.name)


def check_window(churned: np.ndarray) -> None:
    """Raise ChurnFitError when a labelled window cannot rank anybody."""
    churned = np.asarray(churned)
    if len(churned) < MIN_EVALUATION_ROWS:
        raise churn.ChurnFitError(
            f"too few customers to evaluate: {len(churned)} on the test cut-off, "
            f"at least {MIN_EVALUATION_ROWS} needed"
        )
    if len(np.unique(churned)) < 2:
        raise churn.ChurnFitError("every test customer has the same outcome, so AUC is undefined")


def check_scores(scores: np.ndarray) -> None:
    """Raise ChurnFitError for scores that rank nobody (not finite, or all the same)."""
    scores = np.asarray(scores, dtype=float)
    not_finite = int(np.count_nonzero(~np.isfinite(scores)))
    if not_finite:
        raise churn.ChurnFitError(
            f"{not_finite} of {len(scores)} scores are not finite (NaN or infinite): "
            "the model's fit is degenerate on this data, so it is not evaluated"
        )
    if len(scores) and np.ptp(scores) == 0:
        raise churn.ChurnFitError("the score is the same for every customer: it ranks nobody")


def evaluate_candidate(
    name: str, fitted: Callable[[], FittedCandidate], test: pd.DataFrame, *, seed: int
) -> CandidateEvaluation:
    """Fit (via ``fitted``) and evaluate one candidate; any failure makes it not evaluable."""
    churned = test["is_churned"].to_numpy(dtype=int)
    try:
        check_window(churned)
        candidate = fitted()
        scores = candidate.score(test)
        check_scores(scores)
        metrics = churn.evaluate_scores(scores, churned)
        probabilities = cross_fitted_probabilities(scores, churned, seed=seed)
    except FIT_ERRORS as error:
        return CandidateEvaluation(name, is_evaluable=False, message=str(error) or repr(error))
    return CandidateEvaluation(
        name,
        is_evaluable=True,
        message="ok",
        auc=metrics["auc"],
        precision_at_top_decile=metrics["precision_at_top_decile"],
        lift_at_top_decile=metrics["lift_at_top_decile"],
        brier_score=brier_score(probabilities, churned),
        churn_rate=metrics["churn_rate"],
        n_training_rows=candidate.n_training_rows,
    )


def evaluate_candidates(
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int,
    max_rows: int,
    window: float,
    candidates: Iterable[str] = CANDIDATES,
) -> list[CandidateEvaluation]:
    """Evaluate every candidate out of time, each on its own.

    Learned models are fitted on ``train``, BG/NBD on the histories of ``test``, and all
    score ``test``; both frames hold ``INPUT_COLUMNS`` and ``is_churned``.
    """
    return [
        evaluate_candidate(
            name,
            lambda name=name: fit_candidate(
                name, train, test, seed=seed, max_rows=max_rows, window=window
            ),
            test,
            seed=seed,
        )
        for name in candidates
    ]


# ---- the champion rule ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Champion:
    """The candidate to publish (None: nothing can be published) and why."""

    name: str | None
    reason: str


def _ranking_key(evaluation: CandidateEvaluation) -> tuple[float, float, int]:
    brier = evaluation.brier_score if math.isfinite(evaluation.brier_score) else math.inf
    order = SIMPLICITY.index(evaluation.name) if evaluation.name in SIMPLICITY else len(SIMPLICITY)
    return (-evaluation.auc, brier, order)


def choose_champion(evaluations: Sequence[CandidateEvaluation], *, min_auc_gain: float) -> Champion:
    """Pick the candidate whose calibrated score is published.

    Among evaluable candidates the best is the highest AUC; ties go to the lower Brier
    score, then to the simpler candidate (``SIMPLICITY``). The best model (anything fitted,
    BG/NBD included) is published only when its AUC beats the best trivial baseline's by at
    least ``min_auc_gain``; otherwise the baseline is published. Without an evaluable
    baseline a model must beat chance (AUC 0.5) by the same margin. When nothing qualifies
    the champion is None: no score is published, and every customer is Not predicted.
    """
    usable = [e for e in evaluations if e.is_evaluable and math.isfinite(e.auc)]
    baselines = sorted((e for e in usable if e.kind == "trivial_baseline"), key=_ranking_key)
    models = sorted((e for e in usable if e.kind == "model"), key=_ranking_key)
    best_baseline = baselines[0] if baselines else None
    best_model = models[0] if models else None
    gain = f"churn.champion_min_auc_gain = {min_auc_gain:g}"
    if best_baseline is not None and best_model is None:
        return Champion(
            best_baseline.name,
            f"no model is evaluable; the trivial baseline {best_baseline.name} "
            f"(AUC {best_baseline.auc:.3f}) is published",
        )
    if best_baseline is not None and best_model is not None:
        margin = best_model.auc - best_baseline.auc
        if margin >= min_auc_gain:
            return Champion(
                best_model.name,
                f"{best_model.name} has the best AUC ({best_model.auc:.3f}) and beats the best "
                f"trivial baseline {best_baseline.name} ({best_baseline.auc:.3f}) by "
                f"{margin:.3f} >= {gain}",
            )
        return Champion(
            best_baseline.name,
            f"no model beats the trivial baseline {best_baseline.name} "
            f"(AUC {best_baseline.auc:.3f}) by {gain} (best model: {best_model.name}, "
            f"AUC {best_model.auc:.3f}); the baseline is published",
        )
    not_evaluable = "; ".join(
        f"{e.name}: {e.message}" for e in evaluations if e.kind == "trivial_baseline"
    )
    if best_model is not None and best_model.auc - 0.5 >= min_auc_gain:
        return Champion(
            best_model.name,
            f"the trivial baseline is not evaluable ({not_evaluable}); {best_model.name} "
            f"(AUC {best_model.auc:.3f}) beats chance (0.5) by {gain}",
        )
    if best_model is not None:
        return Champion(
            None,
            f"the trivial baseline is not evaluable ({not_evaluable}) and the best model, "
            f"{best_model.name} (AUC {best_model.auc:.3f}), does not beat chance by {gain}: "
            "no churn score is published (Not predicted)",
        )
    return Champion(None, "no candidate is evaluable: no churn score is published (Not predicted)")


# ---- publishing -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedModel:
    """The champion refitted as evaluated, with the calibrator fitted on the test window."""

    candidate: FittedCandidate
    calibrator: IsotonicRegression
    profiles: tuple[DriverProfile, ...] | None


def fit_published_model(
    name: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    seed: int,
    max_rows: int,
    window: float,
) -> PublishedModel:
    """Refit the champion exactly as it was evaluated and calibrate it on the whole test window.

    Fits are seeded, so this is the model the evaluation scored; its Brier score was
    measured on cross-fitted calibrations of the same window.
    """
    candidate = fit_candidate(name, train, test, seed=seed, max_rows=max_rows, window=window)
    churned = test["is_churned"].to_numpy(dtype=int)
    check_window(churned)
    scores = candidate.score(test)
    check_scores(scores)
    return PublishedModel(candidate, fit_calibrator(scores, churned), driver_profiles(candidate))


# Reason codes are built with Arrow's string kernels, column by column: with pandas' object
# strings the text of 87,044 customers took 0.74 s, with Arrow 0.33 s, the same text.


def _format_values(values: np.ndarray) -> pa.Array:
    """Text of ``values`` rounded to two decimals without a trailing ``.0``; ``null`` for NaN."""
    rounded = pa.array(np.round(values, 2), from_pandas=True)  # NaN becomes null
    text = pc.replace_substring_regex(pc.cast(rounded, pa.string()), r"\.0$", "")
    return pc.fill_null(text, "null")


def _format_effects(effects: np.ndarray) -> pa.Array:
    """Text of ``|effects|`` with exactly two decimals (``0.10``, ``1.25``)."""
    cents = np.rint(np.abs(effects) * 100).astype(np.int64)
    whole = pc.cast(pa.array(cents // 100), pa.string())
    fraction = pc.utf8_lpad(pc.cast(pa.array(cents % 100), pa.string()), 2, "0")
    return pc.binary_join_element_wise(whole, fraction, ".")


@dataclass(frozen=True)
class DriverProfile:
    """One driver's partial dependence, relative to the training median.

    ``effect[i]`` is the model's mean raw score over the profile rows with the driver set to
    ``grid[i]``, minus the same with it set to the median; ``missing_effect`` likewise for a
    missing value.
    """

    grid: np.ndarray
    effect: np.ndarray
    missing_effect: float


def driver_profiles(candidate: FittedCandidate) -> tuple[DriverProfile, ...] | None:
    """Compute each driver's partial dependence once (None for quoted drivers).

    Costs (21 quantiles + median + missing) x ``PROFILE_ROWS`` predictions per driver, once
    per run, however many customers are scored.
    """
    if candidate.reference is None or candidate.profile_rows is None:
        return None
    sample = candidate.profile_rows
    matrix = churn.feature_matrix(sample, candidate.drivers)
    profiles = []
    for j, name in enumerate(candidate.drivers):
        column = matrix[:, j]
        finite = column[np.isfinite(column)]
        median = float(candidate.reference[j])
        quantiles = np.quantile(finite, PROFILE_QUANTILES) if finite.size else np.empty(0)
        grid = np.unique(np.r_[quantiles, median])
        values = np.r_[grid, np.nan]
        stacked = pd.concat([sample.assign(**{name: value}) for value in values])
        means = candidate.score(stacked).reshape(len(values), len(sample)).mean(axis=1)
        at_median = means[np.searchsorted(grid, median)]
        profiles.append(DriverProfile(grid, means[:-1] - at_median, means[-1] - at_median))
    return tuple(profiles)


def driver_effects(
    candidate: FittedCandidate, rows: pd.DataFrame, profiles: tuple[DriverProfile, ...]
) -> np.ndarray:
    """Return, per row and driver, the driver's effect on the raw score against the median.

    Positive: the customer's value of the driver raises the risk against the median one.
    A lookup (linear interpolation between the profile's quantiles, flat beyond them), so
    scoring a million customers costs no extra model predictions.
    """
    values = churn.feature_matrix(rows, candidate.drivers)
    effects = np.empty(values.shape)
    for j, profile in enumerate(profiles):
        column = values[:, j]
        inside = np.interp(np.nan_to_num(column), profile.grid, profile.effect)
        effects[:, j] = np.where(np.isnan(column), profile.missing_effect, inside)
    return effects


def reason_codes(
    candidate: FittedCandidate,
    rows: pd.DataFrame,
    profiles: tuple[DriverProfile, ...] | None = None,
) -> np.ndarray:
    """Return each row's top drivers as text.

    E.g. ``days_since_last_purchase=212 (+0.31); recent_orders=0 (+0.12)``.

    For the learned models the drivers are the ``TOP_DRIVERS`` features whose partial
    dependence at the customer's value differs most from that at the training median (the
    signed difference of the mean raw score in brackets; ``profiles`` from
    ``driver_profiles``, computed when not given); a feature at the median moves nothing and
    is left out. For BG/NBD and recency, whose score is a fixed function of the history,
    the history it reads is quoted.
    """
    n = len(rows)
    values = churn.feature_matrix(rows, candidate.drivers)
    if candidate.reference is None:
        parts = [
            pc.binary_join_element_wise(name, _format_values(values[:, j]), "=")
            for j, name in enumerate(candidate.drivers)
        ]
        return pc.binary_join_element_wise(*parts, "; ").to_numpy(zero_copy_only=False)
    if profiles is None:
        profiles = driver_profiles(candidate)
    effects = driver_effects(candidate, rows, profiles)
    top = min(TOP_DRIVERS, len(candidate.drivers))
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :top]
    names = pa.array(candidate.drivers, pa.string())
    rows_index = np.arange(n)
    text = pa.nulls(n, pa.string())
    for k in range(top):
        column = order[:, k]
        effect = effects[rows_index, column]
        part = pc.binary_join_element_wise(
            pc.take(names, pa.array(column)), "=", _format_values(values[rows_index, column]),
            " (", pc.if_else(pa.array(effect >= 0), "+", "-"), _format_effects(effect), ")",
            "",
        )  # fmt: skip
        moves = pa.array(np.round(np.abs(effect), 2) > 0)
        joined = pc.coalesce(pc.binary_join_element_wise(text, part, "; "), part)
        text = pc.if_else(moves, joined, text)
    nothing = "no feature moves the score from the median"
    return pc.fill_null(text, nothing).to_numpy(zero_copy_only=False)


def score_batches(
    published: PublishedModel, batches: Iterable[pd.DataFrame], keep: str
) -> pd.DataFrame:
    """Score rows arriving in batches.

    Returns ``keep``, the calibrated ``churn_score``, the champion's name as ``churn_model``
    and its reason codes as ``churn_drivers``; memory holds one batch's features at a time.
    """
    frames = []
    for batch in batches:
        if len(batch) == 0:
            continue
        raw = np.asarray(published.candidate.score(batch), dtype=float)
        finite = np.isfinite(raw)
        probability = np.full(len(raw), np.nan)
        if finite.any():
            probability[finite] = published.calibrator.predict(raw[finite])
        frames.append(
            pd.DataFrame(
                {
                    keep: batch[keep].to_numpy(),
                    "churn_score": probability,
                    "churn_model": published.candidate.name,
                    "churn_drivers": reason_codes(published.candidate, batch, published.profiles),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            {keep: [], "churn_score": [], "churn_model": [], "churn_drivers": []}
        ).astype({"churn_score": float, "churn_model": object, "churn_drivers": object})
    return pd.concat(frames, ignore_index=True)
