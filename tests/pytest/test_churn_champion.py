"""The churn champion: each candidate wins on data planted for it, calibration recovers
planted probabilities, the champion rule's cases, and degenerate windows never raise."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import special
from sklearn.metrics import roc_auc_score

from segment_warehouse.modelling import churn_champion as cc

SEED = 7
WINDOW_WEEKS = 90 / 7
MIN_GAIN = 0.005


@pytest.fixture(autouse=True, scope="module")
def one_openmp_thread():
    """Fit the trees on one thread: OpenMP spinning on a busy machine is slow."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        yield


Truth = Callable[[pd.DataFrame], np.ndarray]


def cutoff_rows(n: int, seed: int, truth: Truth) -> tuple[pd.DataFrame, np.ndarray]:
    """One cut-off's rows with every input column, labelled by a planted churn probability.

    The history columns are plausible and mutually consistent (BG/NBD's frequency, recency
    and age follow from purchase days, tenure and days since the last purchase); the label
    is one Bernoulli draw from ``truth(rows)``, which is also returned.
    """
    rng = np.random.default_rng(seed)
    days = rng.exponential(60.0, n).round()
    recent = rng.poisson(1.5, n)
    purchase_days = recent + rng.poisson(3.0, n) + 1
    spend = purchase_days * rng.gamma(2.0, 25.0, n)
    tenure = days + rng.uniform(0, 700, n).round()
    age_years = rng.integers(18, 80, n).astype(float)
    age_years[rng.random(n) < 0.2] = np.nan
    rows = pd.DataFrame(
        {
            "customer_id": [f"c{i:06d}" for i in range(n)],
            "days_since_last_purchase": days,
            "tenure_days": tenure,
            "order_count": purchase_days,
            "purchase_days": purchase_days,
            "spend": spend,
            "average_order_value": spend / purchase_days,
            "recent_orders": recent,
            "recent_spend": recent * rng.gamma(2.0, 25.0, n),
            "discount_order_share": rng.uniform(0, 1, n),
            "online_order_share": rng.uniform(0, 1, n),
            "age_years": age_years,
            "frequency": purchase_days - 1,
            "recency": (tenure - days) / 7,
            "age": tenure / 7,
        }
    )
    probability = np.asarray(truth(rows), dtype=float)
    rows["is_churned"] = (rng.random(n) < probability).astype(int)
    return rows, probability


def recency_truth(rows: pd.DataFrame) -> np.ndarray:
    """Churn driven by the days since the last purchase alone."""
    return special.expit(-0.5 + 0.03 * (rows["days_since_last_purchase"] - 60))


def behaviour_truth(rows: pd.DataFrame) -> np.ndarray:
    """Churn driven by discount and online shares (an interaction), not by recency."""
    discount, online = rows["discount_order_share"], rows["online_order_share"]
    return special.expit(-1 + 3.0 * ((discount > 0.6) & (online < 0.5)) + 2.0 * (online > 0.85))


def rfm_truth(rows: pd.DataFrame) -> np.ndarray:
    """A logistic truth in the log RFM features the logistic candidate reads."""
    return special.expit(
        1.5
        - 1.2 * np.log1p(rows["purchase_days"])
        + 0.5 * np.log1p(rows["days_since_last_purchase"])
        - 0.5 * np.log1p(rows["spend"])
        + 0.4 * np.log1p(rows["tenure_days"])
        - 0.6 * np.log1p(rows["recent_orders"])
    )


def evaluate(
    train: pd.DataFrame, test: pd.DataFrame
) -> tuple[dict[str, cc.CandidateEvaluation], cc.Champion]:
    evaluations = cc.evaluate_candidates(
        train, test, seed=SEED, max_rows=1_000_000, window=WINDOW_WEEKS
    )
    assert [e.name for e in evaluations] == list(cc.CANDIDATES)
    return {e.name: e for e in evaluations}, cc.choose_champion(evaluations, min_auc_gain=MIN_GAIN)


# ---- each candidate wins once ------------------------------------------------------------------


def test_recency_driven_churn_publishes_the_recency_baseline() -> None:
    train, _ = cutoff_rows(4000, 1, recency_truth)
    test, _ = cutoff_rows(4000, 2, recency_truth)
    evaluations, champion = evaluate(train, test)
    assert all(e.is_evaluable for e in evaluations.values())
    recency = evaluations[cc.RECENCY]
    # the truth is monotone in recency, so nothing can rank better than it beyond noise
    for name in (cc.CLASSIFIER, cc.LOGISTIC, cc.P_ALIVE, cc.EXPECTED_PURCHASES):
        assert evaluations[name].auc < recency.auc + MIN_GAIN, name
    assert champion.name == cc.RECENCY
    assert "no model beats the trivial baseline recency_baseline" in champion.reason
    assert "the baseline is published" in champion.reason


def test_behaviour_driven_churn_publishes_the_classifier() -> None:
    train, _ = cutoff_rows(4000, 1, behaviour_truth)
    test, probability = cutoff_rows(4000, 2, behaviour_truth)
    evaluations, champion = evaluate(train, test)
    # recency and the RFM models see nothing; the trees find the planted interaction
    for name in (cc.RECENCY, cc.LOGISTIC, cc.P_ALIVE, cc.EXPECTED_PURCHASES):
        assert abs(evaluations[name].auc - 0.5) < 0.05, name
    oracle = roc_auc_score(test["is_churned"], probability)
    assert evaluations[cc.CLASSIFIER].auc > oracle - 0.03
    assert champion.name == cc.CLASSIFIER
    assert "beats the best trivial baseline recency_baseline" in champion.reason


def test_rfm_driven_churn_publishes_the_logistic_regression() -> None:
    train, _ = cutoff_rows(3000, 1, rfm_truth)
    test, _ = cutoff_rows(3000, 2, rfm_truth)
    evaluations, champion = evaluate(train, test)
    logistic = evaluations[cc.LOGISTIC]
    # the correctly specified smooth model beats the trees (which overfit 3,000 rows)
    # and every single-signal score
    assert logistic.auc > evaluations[cc.CLASSIFIER].auc + 0.01
    assert logistic.auc > evaluations[cc.RECENCY].auc + 0.05
    assert champion.name == cc.LOGISTIC
    assert logistic.brier_score == min(e.brier_score for e in evaluations.values())


# ---- calibration ----------------------------------------------------------------------------


def test_published_scores_are_calibrated_on_planted_probabilities() -> None:
    train, _ = cutoff_rows(50_000, 1, rfm_truth)
    test, test_probability = cutoff_rows(50_000, 2, rfm_truth)
    current, probability = cutoff_rows(50_000, 3, rfm_truth)
    published = cc.fit_published_model(
        cc.LOGISTIC, train, test, seed=SEED, max_rows=1_000_000, window=WINDOW_WEEKS
    )
    scored = cc.score_batches(
        published,
        (current.iloc[start : start + 7_000] for start in range(0, len(current), 7_000)),
        keep="customer_id",
    )
    assert scored["customer_id"].tolist() == current["customer_id"].tolist()
    assert (scored["churn_model"] == cc.LOGISTIC).all()
    # against the planted probabilities of customers neither the model nor the calibrator saw
    assert cc.expected_calibration_error(scored["churn_score"], probability) < 0.03
    # the raw logistic probabilities are calibrated here too; the isotonic map must not
    # spoil them, and the cross-fitted Brier score is close to the best possible one
    raw = published.candidate.score(current)
    assert np.abs(scored["churn_score"] - raw).mean() < 0.03
    evaluation = cc.evaluate_candidate(
        cc.LOGISTIC,
        lambda: published.candidate,
        test,
        seed=SEED,
    )
    best_brier = float(np.mean(test_probability * (1 - test_probability)))
    assert best_brier < evaluation.brier_score < best_brier + 0.005


def test_calibration_maps_a_raw_score_that_is_not_a_probability() -> None:
    # recency is in days: the calibrated map turns it into the planted probability
    train, _ = cutoff_rows(50_000, 1, recency_truth)
    test, _ = cutoff_rows(50_000, 2, recency_truth)
    current, probability = cutoff_rows(50_000, 3, recency_truth)
    published = cc.fit_published_model(
        cc.RECENCY, train, test, seed=SEED, max_rows=1_000_000, window=WINDOW_WEEKS
    )
    scored = cc.score_batches(published, [current], keep="customer_id")
    assert scored["churn_score"].between(0, 1).all()
    assert cc.expected_calibration_error(scored["churn_score"], probability) < 0.03
    # monotone: a longer gap is never less risky
    order = np.argsort(current["days_since_last_purchase"].to_numpy(), kind="stable")
    assert np.all(np.diff(scored["churn_score"].to_numpy()[order]) >= 0)


def test_cross_fitted_probabilities_never_use_the_row_itself() -> None:
    # one outlier score with a unique outcome: calibrated in-sample it would get its own
    # label (1.0); cross-fitted it gets the neighbours' rate
    scores = np.r_[np.linspace(0, 1, 999), 10.0]
    churned = np.r_[np.zeros(999, dtype=int), 1]
    cross = cc.cross_fitted_probabilities(scores, churned, seed=0)
    assert cc.fit_calibrator(scores, churned).predict([10.0])[0] == 1.0
    assert cross[-1] == 0.0
    np.testing.assert_array_equal(cross, cc.cross_fitted_probabilities(scores, churned, seed=0))


def test_expected_calibration_error_by_hand() -> None:
    # bins [0.1, 0.2) and [0.9, 1.0]: |0.15 - 0.5| and |0.95 - 1|, each half of the rows
    probabilities = np.array([0.1, 0.2 - 1e-9, 0.9, 1.0])
    truth = np.array([0, 1, 1, 1])
    expected = 0.5 * abs(0.15 - 0.5) + 0.5 * abs(0.95 - 1.0)
    assert cc.expected_calibration_error(probabilities, truth) == pytest.approx(expected)
    assert cc.brier_score(np.array([0.2, 0.9]), np.array([0, 1])) == pytest.approx(0.025)


# ---- the champion rule ---------------------------------------------------------------------------


def ok(name: str, auc: float, brier: float = 0.2) -> cc.CandidateEvaluation:
    return cc.CandidateEvaluation(name, True, "ok", auc=auc, brier_score=brier)


def failed(name: str, message: str = "one class only") -> cc.CandidateEvaluation:
    return cc.CandidateEvaluation(name, False, message)


def test_a_model_that_beats_the_baseline_by_the_margin_is_published() -> None:
    champion = cc.choose_champion(
        [ok(cc.CLASSIFIER, 0.85), ok(cc.LOGISTIC, 0.84), ok(cc.RECENCY, 0.83)],
        min_auc_gain=0.02,
    )
    assert champion.name == cc.CLASSIFIER
    assert "0.850" in champion.reason and "0.830" in champion.reason


def test_a_model_short_of_the_margin_loses_to_the_baseline_with_the_reason() -> None:
    champion = cc.choose_champion(
        [ok(cc.CLASSIFIER, 0.849), ok(cc.EXPECTED_PURCHASES, 0.835), ok(cc.RECENCY, 0.83)],
        min_auc_gain=0.02,
    )
    assert champion.name == cc.RECENCY
    assert "best model: classifier, AUC 0.849" in champion.reason
    assert "baseline is published" in champion.reason


def test_bg_nbd_is_a_model_that_can_win_and_must_beat_the_baseline() -> None:
    # the CDNOW case of issue 21: expected purchases 0.835 beats recency 0.828 by 0.007
    evaluations = [ok(cc.CLASSIFIER, 0.799), ok(cc.EXPECTED_PURCHASES, 0.835)]
    evaluations.append(ok(cc.RECENCY, 0.828))
    assert cc.kind(cc.EXPECTED_PURCHASES) == cc.kind(cc.P_ALIVE) == "model"
    assert cc.choose_champion(evaluations, min_auc_gain=0.005).name == cc.EXPECTED_PURCHASES
    assert cc.choose_champion(evaluations, min_auc_gain=0.01).name == cc.RECENCY


def test_ties_go_to_the_lower_brier_score_then_to_the_simpler_candidate() -> None:
    tied = [ok(cc.CLASSIFIER, 0.9, brier=0.15), ok(cc.LOGISTIC, 0.9, brier=0.14)]
    tied.append(ok(cc.RECENCY, 0.8))
    assert cc.choose_champion(tied, min_auc_gain=MIN_GAIN).name == cc.LOGISTIC
    same = [ok(cc.CLASSIFIER, 0.9), ok(cc.LOGISTIC, 0.9), ok(cc.P_ALIVE, 0.9)]
    same.append(ok(cc.RECENCY, 0.8))
    assert cc.choose_champion(same, min_auc_gain=MIN_GAIN).name == cc.P_ALIVE


def test_failed_models_leave_the_baseline() -> None:
    evaluations = [failed(cc.CLASSIFIER), failed(cc.LOGISTIC), ok(cc.RECENCY, 0.7)]
    champion = cc.choose_champion(evaluations, min_auc_gain=MIN_GAIN)
    assert champion.name == cc.RECENCY and "no model is evaluable" in champion.reason


def test_without_an_evaluable_baseline_a_model_must_beat_chance() -> None:
    baseline = failed(cc.RECENCY, "the score is the same for every customer: it ranks nobody")
    champion = cc.choose_champion([ok(cc.CLASSIFIER, 0.7), baseline], min_auc_gain=MIN_GAIN)
    assert champion.name == cc.CLASSIFIER
    assert "ranks nobody" in champion.reason
    champion = cc.choose_champion([ok(cc.CLASSIFIER, 0.502), baseline], min_auc_gain=MIN_GAIN)
    assert champion.name is None and "Not predicted" in champion.reason


def test_nothing_evaluable_publishes_nothing() -> None:
    evaluations = [failed(name) for name in cc.CANDIDATES]
    # an evaluable-looking row without a finite AUC does not count either
    evaluations[0] = cc.CandidateEvaluation(cc.CLASSIFIER, True, "ok")
    champion = cc.choose_champion(evaluations, min_auc_gain=MIN_GAIN)
    assert champion == cc.Champion(
        None, "no candidate is evaluable: no churn score is published (Not predicted)"
    )
    assert cc.choose_champion([], min_auc_gain=MIN_GAIN).name is None


# ---- degenerate windows ------------------------------------------------------------------------


@pytest.mark.parametrize("outcome", [0, 1])
def test_one_class_only_makes_every_candidate_not_evaluable(outcome: int) -> None:
    train, _ = cutoff_rows(500, 1, recency_truth)
    test, _ = cutoff_rows(500, 2, recency_truth)
    test["is_churned"] = outcome
    evaluations, champion = evaluate(train, test)
    for evaluation in evaluations.values():
        assert not evaluation.is_evaluable
        assert "same outcome" in evaluation.message
        assert np.isnan(evaluation.auc) and np.isnan(evaluation.brier_score)
    assert champion.name is None
    with pytest.raises(cc.churn.ChurnFitError):
        cc.fit_published_model(
            cc.RECENCY, train, test, seed=SEED, max_rows=1000, window=WINDOW_WEEKS
        )


def test_too_few_rows_make_every_candidate_not_evaluable() -> None:
    train, _ = cutoff_rows(30, 1, recency_truth)
    test, _ = cutoff_rows(cc.MIN_EVALUATION_ROWS - 1, 2, recency_truth)
    evaluations, champion = evaluate(train, test)
    assert all("too few customers" in e.message for e in evaluations.values())
    assert champion.name is None
    # enough test rows but too few training rows: only the learned models fail
    test, _ = cutoff_rows(400, 2, recency_truth)
    evaluations, champion = evaluate(train, test)
    for name in (cc.CLASSIFIER, cc.LOGISTIC):
        assert not evaluations[name].is_evaluable
        assert "at least 50" in evaluations[name].message
    assert evaluations[cc.RECENCY].is_evaluable and champion.name is not None


def test_constant_and_missing_features_are_recorded_not_raised() -> None:
    train, _ = cutoff_rows(600, 1, recency_truth)
    test, _ = cutoff_rows(600, 2, recency_truth)
    # everyone bought once, on the same day, long ago: no repeat purchases for BG/NBD and
    # every feature constant; ages and shares missing for everybody
    for frame in (train, test):
        frame[list(cc.INPUT_COLUMNS)] = 0.0
        frame[["days_since_last_purchase", "tenure_days", "age"]] = 30.0
        frame[["purchase_days", "order_count"]] = 1.0
        frame[["age_years", "discount_order_share", "online_order_share"]] = np.nan
    evaluations, champion = evaluate(train, test)
    assert not any(e.is_evaluable for e in evaluations.values())
    assert "ranks nobody" in evaluations[cc.RECENCY].message
    assert "ranks nobody" in evaluations[cc.CLASSIFIER].message
    assert "repeat purchase" in evaluations[cc.P_ALIVE].message
    assert champion.name is None

    # one bad candidate does not stop the others: NaN recency for one test customer
    train, _ = cutoff_rows(600, 1, recency_truth)
    test, _ = cutoff_rows(600, 2, recency_truth)
    test.loc[0, "days_since_last_purchase"] = np.nan
    evaluations, champion = evaluate(train, test)
    assert "not finite" in evaluations[cc.RECENCY].message
    assert evaluations[cc.CLASSIFIER].is_evaluable and evaluations[cc.LOGISTIC].is_evaluable
    assert champion.name is not None and champion.name != cc.RECENCY


# ---- reason codes and batches --------------------------------------------------------------------


def test_reason_codes_name_the_features_that_move_the_score() -> None:
    train, _ = cutoff_rows(5000, 1, recency_truth)
    test, _ = cutoff_rows(2000, 2, recency_truth)
    logistic = cc.fit_candidate(
        cc.LOGISTIC, train, test, seed=SEED, max_rows=10_000, window=WINDOW_WEEKS
    )
    median = pd.DataFrame([dict(zip(logistic.drivers, logistic.reference, strict=True))]).assign(
        customer_id="median"
    )
    lapsed = median.assign(days_since_last_purchase=400.0, customer_id="lapsed")
    recent = median.assign(days_since_last_purchase=0.0, customer_id="recent")
    codes = cc.reason_codes(logistic, pd.concat([median, lapsed, recent]))
    assert codes[0] == "no feature moves the score from the median"
    assert codes[1].startswith("days_since_last_purchase=400 (+")
    assert codes[2].startswith("days_since_last_purchase=0 (-")
    assert codes[1].count("=") == 1  # every other feature is at the median

    recency = cc.fit_candidate(
        cc.RECENCY, train, test, seed=SEED, max_rows=10_000, window=WINDOW_WEEKS
    )
    assert cc.reason_codes(recency, lapsed.assign(days_since_last_purchase=212.0))[0] == (
        "days_since_last_purchase=212"
    )
    bg_nbd = cc.fit_candidate(
        cc.P_ALIVE, train, test, seed=SEED, max_rows=10_000, window=WINDOW_WEEKS
    )
    assert cc.reason_codes(bg_nbd, test.iloc[:1])[0].startswith("purchase_days=")


def test_classifier_reason_codes_find_the_planted_driver_and_batches_agree() -> None:
    train, _ = cutoff_rows(4000, 1, behaviour_truth)
    test, _ = cutoff_rows(4000, 2, behaviour_truth)
    published = cc.fit_published_model(
        cc.CLASSIFIER, train, test, seed=SEED, max_rows=10_000, window=WINDOW_WEEKS
    )
    current, _ = cutoff_rows(3000, 3, behaviour_truth)
    whole = cc.score_batches(published, [current], keep="customer_id")
    batched = cc.score_batches(
        published,
        (current.iloc[start : start + 700] for start in range(0, len(current), 700)),
        keep="customer_id",
    )
    pd.testing.assert_frame_equal(whole, batched)
    risky = (current["discount_order_share"] > 0.75) & (current["online_order_share"] < 0.35)
    top = whole.loc[risky.to_numpy(), "churn_drivers"].str.split("=").str[0]
    # the planted interaction is the first driver of most customers it puts at risk
    assert top.isin(["discount_order_share", "online_order_share"]).mean() > 0.8
    assert whole.loc[risky.to_numpy(), "churn_score"].mean() > 0.7
    empty = cc.score_batches(published, iter([]), keep="customer_id")
    assert list(empty.columns) == ["customer_id", "churn_score", "churn_model", "churn_drivers"]
    assert len(empty) == 0
