"""Probabilistic identity matching (segment_warehouse.modelling.identity_matching) on planted truth.

The synthetic people carry three kinds of planted pairs: 'probabilistic_only' duplicates (a
second account: same birth date, postcode, city and address; a name typo in a third of
them), which must be linked, and two traps that must not be: 'namesake' (same first and
last name and city, another birth date and address) and 'family' (same last name and
home, another first name and birth date). Five per cent of birth dates, postcodes and
addresses are missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from segment_warehouse.modelling import identity_matching

THRESHOLD = 0.99
PEOPLE = 4000


@pytest.fixture(scope="module")
def synthetic() -> identity_matching.SyntheticRecords:
    return identity_matching.synthetic_records(PEOPLE, seed=11)


@pytest.fixture(scope="module")
def matched(synthetic: identity_matching.SyntheticRecords) -> identity_matching.MatchResult:
    return identity_matching.match_records(synthetic.records, threshold=THRESHOLD, seed=42)


def planted_kinds(pairs: pd.DataFrame, planted: pd.DataFrame) -> pd.Series:
    """Each found pair's planted kind; 'unplanted' for a pair that is no planted pair."""
    kinds = pairs.merge(planted, on=["record_key_l", "record_key_r"], how="left")["kind"]
    return kinds.fillna("unplanted")


def test_synthetic_records_plant_what_they_say(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    records = synthetic.records.set_index("record_key")
    planted = synthetic.planted
    assert planted["kind"].value_counts().to_dict() == {
        "probabilistic_only": 200,
        "namesake": 40,
        "family": 40,
    }
    assert len(records) == PEOPLE + len(planted)
    assert (planted["record_key_l"] < planted["record_key_r"]).all()
    left = records.loc[planted["record_key_l"]].reset_index(drop=True)
    right = records.loc[planted["record_key_r"]].reset_index(drop=True)
    kind = planted["kind"].to_numpy()

    def same(column: str) -> np.ndarray:
        return (left[column] == right[column]).to_numpy()

    def known(column: str) -> np.ndarray:
        return (left[column].notna() & right[column].notna()).to_numpy()

    duplicate = kind == "probabilistic_only"
    assert same("city")[duplicate].all()
    assert (same("postcode") | ~known("postcode"))[duplicate].all()
    # a birth date or address typo in about 5 per cent of them, one character
    for column in ("birth_date", "address"):
        differs = (known(column) & ~same(column))[duplicate]
        assert 0.005 < differs.mean() < 0.09, column
        left_text = left[column].astype(str).to_numpy()[duplicate][differs]
        right_text = right[column].astype(str).to_numpy()[duplicate][differs]
        for one, other in zip(left_text, right_text, strict=True):
            assert len(one) - len(other) in (-1, 0, 1)
            if len(one) == len(other):
                assert sum(a != b for a, b in zip(one, other, strict=True)) in (1, 2)
    # a third of them with one name typo
    typos = (~(same("first_name") & same("last_name")))[duplicate].mean()
    assert 0.25 < typos < 0.42
    namesake = kind == "namesake"
    assert (same("first_name") & same("last_name") & same("city"))[namesake].all()
    assert not (same("birth_date") | same("address") | same("postcode"))[namesake].any()
    family = kind == "family"
    assert (same("last_name") & same("city"))[family].all()
    assert (same("address") | ~known("address"))[family].all()
    assert not (same("first_name") | same("birth_date"))[family].any()


def test_links_the_duplicates_and_not_the_traps(
    synthetic: identity_matching.SyntheticRecords, matched: identity_matching.MatchResult
) -> None:
    assert matched.skipped_reason is None
    kinds = planted_kinds(matched.pairs, synthetic.planted)
    found = kinds.value_counts().to_dict()
    assert found.get("namesake", 0) == 0
    assert found.get("family", 0) == 0
    duplicates = (synthetic.planted["kind"] == "probabilistic_only").sum()
    precision = found.get("probabilistic_only", 0) / len(kinds)
    recall = found.get("probabilistic_only", 0) / duplicates
    assert precision >= 0.99, found
    assert recall >= 0.9, found


def test_a_duplicate_with_complete_fields_is_found_even_with_a_name_typo(
    synthetic: identity_matching.SyntheticRecords, matched: identity_matching.MatchResult
) -> None:
    """Missing fields may cost a duplicate its link; a typo alone must not."""
    records = synthetic.records.set_index("record_key")
    duplicates = synthetic.planted[synthetic.planted["kind"] == "probabilistic_only"]
    complete = (
        records.loc[duplicates["record_key_l"], ["birth_date", "postcode", "address"]]
        .notna()
        .all(axis=1)
        .to_numpy()
        & records.loc[duplicates["record_key_r"], ["birth_date", "postcode", "address"]]
        .notna()
        .all(axis=1)
        .to_numpy()
    )
    expected = duplicates[complete]
    found = expected.merge(matched.pairs, on=["record_key_l", "record_key_r"])
    assert len(expected) > 120  # 0.95 ** 6 of the 200 have all six fields
    assert len(found) == len(expected)


def test_output_pairs_are_ordered_thresholded_and_consistent(
    matched: identity_matching.MatchResult,
) -> None:
    pairs = matched.pairs
    assert list(pairs.columns) == list(identity_matching.OUTPUT_COLUMNS)
    assert len(pairs) > 0
    assert (pairs["record_key_l"] < pairs["record_key_r"]).all()
    assert not pairs.duplicated(["record_key_l", "record_key_r"]).any()
    assert pairs.equals(pairs.sort_values(["record_key_l", "record_key_r"]))
    assert (pairs["match_probability"] >= THRESHOLD).all()
    assert (pairs["match_probability"] <= 1).all()
    # the weight is the log2 Bayes factor the probability comes from
    odds = 2.0 ** pairs["match_weight"]
    np.testing.assert_allclose(pairs["match_probability"], odds / (1 + odds), rtol=1e-9)


def test_the_trained_model_weighs_agreement_above_disagreement(
    matched: identity_matching.MatchResult,
) -> None:
    """Every comparison has trained m and u; agreeing is evidence for a match, not against."""
    assert matched.model is not None
    assert identity_matching.untrained_agreement_levels(matched.model) == []
    for comparison in matched.model["comparisons"]:
        levels = [
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        ]
        agree, disagree = levels[0], levels[-1]
        assert agree["m_probability"] / agree["u_probability"] > 10, comparison
        assert disagree["m_probability"] / disagree["u_probability"] < 1, comparison


def test_same_input_in_any_row_order_gives_the_same_pairs(
    synthetic: identity_matching.SyntheticRecords, matched: identity_matching.MatchResult
) -> None:
    shuffled = synthetic.records.sample(frac=1, random_state=5).reset_index(drop=True)
    again = identity_matching.match_records(shuffled, threshold=THRESHOLD, seed=42)
    pd.testing.assert_frame_equal(again.pairs, matched.pairs)


def test_a_higher_threshold_keeps_a_subset(
    synthetic: identity_matching.SyntheticRecords, matched: identity_matching.MatchResult
) -> None:
    strict = identity_matching.match_records(synthetic.records, threshold=0.9999, seed=42)
    assert 0 < len(strict.pairs) <= len(matched.pairs)
    assert (strict.pairs["match_probability"] >= 0.9999).all()
    kept = strict.pairs.merge(matched.pairs, on=list(identity_matching.OUTPUT_COLUMNS))
    assert len(kept) == len(strict.pairs)


def test_without_any_address_the_other_fields_still_link(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    """A source with no addresses (the demo data) never sees the address levels: harmless."""
    records = synthetic.records.assign(address=None)
    result = identity_matching.match_records(records, threshold=THRESHOLD, seed=42)
    assert result.skipped_reason is None
    found = planted_kinds(result.pairs, synthetic.planted).value_counts().to_dict()
    assert found.get("namesake", 0) == 0
    assert found.get("family", 0) == 0
    assert found.get("probabilistic_only", 0) >= 0.75 * 200
    assert found.get("probabilistic_only", 0) / len(result.pairs) >= 0.99


def assert_empty_with_schema(result: identity_matching.MatchResult) -> None:
    assert result.pairs.empty
    assert list(result.pairs.columns) == list(identity_matching.OUTPUT_COLUMNS)
    table = identity_matching.to_arrow(result.pairs)
    assert table.schema == identity_matching.OUTPUT_SCHEMA
    assert table.schema.field("match_probability").type == pa.float64()
    assert table.num_rows == 0


def test_too_few_records_give_no_pairs_and_say_so(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    result = identity_matching.match_records(
        synthetic.records.head(999), threshold=THRESHOLD, seed=42
    )
    assert_empty_with_schema(result)
    assert result.skipped_reason == "999 candidate records, fewer than the 1000 needed to train"


def test_records_without_a_name_do_not_count_towards_the_minimum(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    records = synthetic.records.head(1200).copy()
    records.loc[records.index[:300], "last_name"] = "  "
    result = identity_matching.match_records(records, threshold=THRESHOLD, seed=42)
    assert result.skipped_reason is not None
    assert result.skipped_reason.startswith("900 candidate records")


def test_nothing_to_train_on_gives_no_pairs_and_says_so(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    """No two records share birth date and postcode: the first EM round has no pairs."""
    records = synthetic.records.head(2000).copy()
    records["postcode"] = [f"z{i}" for i in range(len(records))]
    result = identity_matching.match_records(records, threshold=THRESHOLD, seed=42)
    assert_empty_with_schema(result)
    assert result.skipped_reason is not None
    assert result.skipped_reason.startswith("EM on birth_date and postcode found nothing")


def test_no_prior_gives_no_pairs_and_says_so(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    """No two records share first name, last name and birth date: the prior would be 0."""
    records = synthetic.records.head(3000).copy()
    records["first_name"] = [f"{name}{i}" for i, name in enumerate(records["first_name"])]
    result = identity_matching.match_records(records, threshold=THRESHOLD, seed=42)
    assert_empty_with_schema(result)
    assert result.skipped_reason == (
        "no two records agree on first_name, last_name, birth_date: no prior match probability"
    )


def test_evidence_never_seen_in_training_gives_no_pairs_and_says_so(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    """No pair sharing birth date and postcode has a similar first name.

    splink would score an exact or near first-name match with a default m it never
    estimated; the model refuses instead of linking on a guess.
    """
    records = synthetic.records.copy()
    # persons whose first name differs in its first letter wherever birth date and postcode
    # agree: prefix each first name with a letter that cycles within each such block
    block = records.groupby(["birth_date", "postcode"], dropna=False).cumcount()
    records["first_name"] = [
        chr(ord("a") + position % 26) * 3 + name
        for position, name in zip(block, records["first_name"], strict=True)
    ]
    result = identity_matching.match_records(records, threshold=THRESHOLD, seed=42)
    assert_empty_with_schema(result)
    assert result.skipped_reason is not None
    assert result.skipped_reason.startswith("too little evidence: full agreement never seen")
    assert "first_name (Exact match on first_name)" in result.skipped_reason


def test_an_em_round_that_does_not_converge_gives_no_pairs_and_says_so(
    synthetic: identity_matching.SyntheticRecords, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_matching, "EM_MAX_ITERATIONS", 1)
    result = identity_matching.match_records(synthetic.records, threshold=THRESHOLD, seed=42)
    assert_empty_with_schema(result)
    assert result.skipped_reason == (
        "EM on birth_date and postcode did not converge within 1 iterations"
    )


def test_candidates_must_have_unique_keys_and_all_columns(
    synthetic: identity_matching.SyntheticRecords,
) -> None:
    records = synthetic.records.head(1500)
    with pytest.raises(ValueError, match="lack columns: address"):
        identity_matching.match_records(
            records.drop(columns="address"), threshold=THRESHOLD, seed=42
        )
    doubled = pd.concat([records, records.head(1)], ignore_index=True)
    with pytest.raises(ValueError, match="unique"):
        identity_matching.match_records(doubled, threshold=THRESHOLD, seed=42)


def test_only_an_agreement_level_with_u_and_no_m_is_untrained() -> None:
    def comparison(name: str, agreement: dict) -> dict:
        return {
            "output_column_name": name,
            "comparison_levels": [
                {"is_null_level": True, "label_for_charts": "null"},
                {"label_for_charts": f"same {name}", **agreement},
                {"label_for_charts": "other", "m_probability": 0.1, "u_probability": 0.9},
            ],
        }

    model = {
        "comparisons": [
            comparison("trained", {"m_probability": 0.9, "u_probability": 0.01}),
            comparison("no_m", {"u_probability": 0.01}),
            comparison("no_u", {"m_probability": 0.9}),
            comparison("neither", {}),
        ]
    }
    assert identity_matching.untrained_agreement_levels(model) == ["no_m (same no_m)"]


def test_every_em_block_ties_pairs_on_more_than_names() -> None:
    """Names alone make a block where namesakes swamp the duplicates at scale (EM then fits
    the wrong class: at a million demo records no pair reached 0.99)."""
    for rule in identity_matching.EM_BLOCKING_RULES:
        assert set(rule) - {"first_name", "last_name"}, rule


def test_the_trained_model_rates_full_agreement_as_common_among_matches(
    matched: identity_matching.MatchResult,
) -> None:
    """Most duplicates agree on each field: m of full agreement is high, not a stray class."""
    assert matched.model is not None
    for comparison in matched.model["comparisons"]:
        agree = next(
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        )
        assert agree["m_probability"] > 0.5, comparison["output_column_name"]


def test_an_untrained_level_gets_an_m_that_is_never_evidence_for_a_match() -> None:
    model = {
        "comparisons": [
            {
                "output_column_name": "location",
                "comparison_levels": [
                    {"is_null_level": True, "label_for_charts": "null"},
                    {"label_for_charts": "same", "m_probability": 0.9, "u_probability": 1e-6},
                    {"label_for_charts": "near", "u_probability": 1e-5},
                    {"label_for_charts": "place", "m_probability": 0.08, "u_probability": 0.02},
                    {"label_for_charts": "other", "u_probability": 0.97},
                    {"label_for_charts": "unseen"},
                ],
            }
        ]
    }
    filled = identity_matching.fill_untrained_levels(model)
    levels = {
        level["label_for_charts"]: level for level in filled["comparisons"][0]["comparison_levels"]
    }
    # a rare level: m = u, weight 0; a common one: the least trained m, evidence against
    assert levels["near"]["m_probability"] == 1e-5
    assert levels["other"]["m_probability"] == 0.08
    # trained levels, the null level and a level without u stay as they were
    assert levels["same"]["m_probability"] == 0.9
    assert "m_probability" not in levels["null"]
    assert "m_probability" not in levels["unseen"]
    # the input is not changed
    assert "m_probability" not in model["comparisons"][0]["comparison_levels"][2]


def test_splink_runs_within_its_own_memory_limit_with_the_same_pairs(
    synthetic: identity_matching.SyntheticRecords,
    matched: identity_matching.MatchResult,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the connection is bounded (DuckDB's default is 80% of the RAM, on top of the
    # warehouse's own limit in the same process), and a lower bound, where DuckDB may
    # spill, changes no pair
    seen = {}
    predict = identity_matching._predict

    def recording_predict(linker, connection, threshold):
        seen["memory_limit"], seen["temp_directory"] = connection.execute(
            "select current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        return predict(linker, connection, threshold)

    monkeypatch.setattr(identity_matching, "_predict", recording_predict)
    monkeypatch.setattr(identity_matching, "MEMORY_LIMIT", "64MB")
    bounded = identity_matching.match_records(synthetic.records, threshold=THRESHOLD, seed=42)
    assert seen["memory_limit"] == "61.0 MiB"  # 64 MB
    assert "splink-" in seen["temp_directory"]
    pd.testing.assert_frame_equal(bounded.pairs, matched.pairs)
