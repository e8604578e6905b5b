"""Supervised churn score: a gradient-boosted classifier on purchase-history features.

A customer counts as churned at a cut-off when they make no purchase in the following
window. The classifier is trained on the features of one cut-off with the labels the next
window revealed, and evaluated on a later cut-off it never saw (a time-based split), next
to the BG/NBD probability of being alive as a baseline. Everything is seeded, so the same
rows give the same model and scores.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import roc_auc_score

FEATURES = (
    "days_since_last_purchase",
    "tenure_days",
    "order_count",
    "purchase_days",
    "spend",
    "average_order_value",
    "recent_orders",
    "recent_spend",
    "discount_order_share",
    "online_order_share",
    "age_years",
)
MIN_TRAINING_ROWS = 50


class ChurnFitError(ValueError):
    """The training rows cannot support a classifier (too few rows or one class only)."""


@dataclass(frozen=True)
class ChurnModel:
    """A fitted classifier and the rows it was trained on."""

    classifier: HistGradientBoostingClassifier
    features: tuple[str, ...]
    n_training_rows: int


def feature_matrix(rows: pd.DataFrame, features: tuple[str, ...]) -> np.ndarray:
    """Return ``features`` of ``rows`` as a float matrix (NaN for missing values).

    Raises:
        KeyError: A feature column is missing, naming it.

    """
    missing = [name for name in features if name not in rows.columns]
    if missing:
        raise KeyError(f"churn features missing from the input: {', '.join(missing)}")
    return rows.loc[:, list(features)].to_numpy(dtype=float, na_value=np.nan)


def fit_classifier(
    rows: pd.DataFrame,
    churned: np.ndarray,
    *,
    seed: int,
    max_rows: int,
    features: tuple[str, ...] = FEATURES,
) -> ChurnModel:
    """Fit the churn classifier on ``rows`` (one per customer) and 0/1 ``churned`` labels.

    More than ``max_rows`` rows are sampled down with ``seed``; missing values (e.g. an
    unknown age) are handled by the trees natively, and a feature missing for every row
    is left out (``ChurnModel.features`` lists the ones used).
    """
    churned = np.asarray(churned, dtype=int)
    if len(rows) != len(churned):
        raise ValueError("rows and churned must have the same length")
    if len(rows) < MIN_TRAINING_ROWS:
        raise ChurnFitError(
            f"churn classifier needs at least {MIN_TRAINING_ROWS} labelled customers, "
            f"got {len(rows)}"
        )
    if max_rows < MIN_TRAINING_ROWS:
        raise ValueError(f"max_rows must be at least {MIN_TRAINING_ROWS}, got {max_rows}")
    matrix = feature_matrix(rows, features)
    # a feature with no value at all (e.g. no birth dates in the data) carries nothing
    present = ~np.all(np.isnan(matrix), axis=0)
    features = tuple(name for name, keep in zip(features, present, strict=True) if keep)
    matrix = matrix[:, present]
    if len(rows) > max_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(rows), max_rows, replace=False))
        matrix, churned = matrix[keep], churned[keep]
    if len(np.unique(churned)) < 2:
        raise ChurnFitError(
            "churn classifier needs both churned and retained customers among its training rows"
        )
    classifier = HistGradientBoostingClassifier(
        max_iter=200,
        learning_rate=0.1,
        max_leaf_nodes=31,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    )
    classifier.fit(matrix, churned)
    return ChurnModel(classifier=classifier, features=features, n_training_rows=len(churned))


def predict_churn_batches(
    model: ChurnModel, batches: Iterable[pd.DataFrame], keep: str
) -> tuple[np.ndarray, np.ndarray]:
    """Score rows arriving in batches; return the ``keep`` column and the scores.

    Bounds memory on large inputs: only the kept column and the scores are held.
    """
    kept, scores = [], []
    for batch in batches:
        kept.append(batch[keep].to_numpy())
        scores.append(predict_churn(model, batch))
    if not kept:
        return np.empty(0, dtype=object), np.empty(0)
    return np.concatenate(kept), np.concatenate(scores)


def predict_churn(model: ChurnModel, rows: pd.DataFrame) -> np.ndarray:
    """Return each row's probability of making no purchase in the next window."""
    if len(rows) == 0:
        return np.empty(0)
    return model.classifier.predict_proba(feature_matrix(rows, model.features))[:, 1]


def precision_at_top(scores: np.ndarray, churned: np.ndarray, share: float = 0.1) -> float:
    """Return the churn rate among the ``share`` of customers with the highest scores.

    Ties at the cut are broken by position, so the result is deterministic for an
    ordered input.
    """
    scores, churned = np.asarray(scores, dtype=float), np.asarray(churned, dtype=int)
    top = max(int(np.ceil(share * len(scores))), 1)
    order = np.argsort(-scores, kind="stable")[:top]
    return float(churned[order].mean())


def evaluate_scores(scores: np.ndarray, churned: np.ndarray) -> dict[str, float]:
    """Return AUC, precision and lift in the top decile, and the churn rate.

    Raises:
        ChurnFitError: Some scores are not finite (NaN or infinite), as a degenerate model
            fit gives them: a score that ranks nobody cannot be evaluated, and evaluating
            the others alone would flatter the model.

    """
    scores, churned = np.asarray(scores, dtype=float), np.asarray(churned, dtype=int)
    not_finite = int(np.count_nonzero(~np.isfinite(scores)))
    if not_finite:
        raise ChurnFitError(
            f"{not_finite} of {len(scores)} scores are not finite (NaN or infinite): "
            "the model's fit is degenerate on this data, so it is not evaluated"
        )
    churn_rate = float(churned.mean()) if len(churned) else float("nan")
    two_classes = len(np.unique(churned)) == 2
    auc = float(roc_auc_score(churned, scores)) if two_classes else float("nan")
    precision = precision_at_top(scores, churned) if len(churned) else float("nan")
    return {
        "auc": auc,
        "precision_at_top_decile": precision,
        "lift_at_top_decile": precision / churn_rate if churn_rate else float("nan"),
        "churn_rate": churn_rate,
        "n_customers": len(churned),
    }
