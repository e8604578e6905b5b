"""Probabilistic record linkage of customer records with splink (DuckDB backend).

The dbt Python model ``int_identity_probabilistic_matches`` is a thin wrapper around
:func:`match_records`: it hands over the normalised candidate records of
``int_identity_match_candidates`` and stores the scored pairs it gets back.

The model is Fellegi-Sunter, as splink fits it:

- comparisons: first name and last name (exact, Levenshtein 1, Jaro-Winkler 0.88, other),
  birth date as ISO text (exact, one typo - Levenshtein 1, other) and one *location*
  comparison over postcode, city and address together (same address and postcode, same
  address and city, similar address and same postcode, another known address in the same
  postcode or city, same postcode or same city with an address missing, other). Postcode,
  city and address are one comparison, not three, because they are not independent given
  a match or a non-match: members of one household agree on all three, and scoring each
  agreement as separate evidence would link relatives (the 'family' trap) on the
  strength of the address alone.
- blocking: only pairs that share postcode and both initials, birth date and both
  initials, or birth date and postcode are scored (:data:`PREDICTION_BLOCKING_RULES`). A
  duplicate account re-registered by the same person keeps postcode and birth date; a
  typo rarely hits an initial, and one that does is still caught by the third rule. Each
  block holds a few people at any size: a birth date has some 24,000 values whatever the
  number of records, so a rule on it with one initial grows with the square of the
  records (at 10M demo customers, 71M pairs on birth date and last-name initial and 253M
  on postcode and first-name initial, the rules used before; 36M for all three now).
- training: u by random sampling with a fixed seed; m by expectation maximisation on three
  blocking rules (birth date and postcode, which trains the names; names and birth date,
  which trains the location; names and postcode, which trains birth date); the prior match
  probability from deterministic rules (same names and birth date) with an assumed
  recall. Every EM block ties pairs on a near-unique field as well as the names: on the
  names alone, namesakes outnumber duplicates more the more records there are (pairs grow
  with the square of the records, duplicates linearly) and EM, with u fixed, fits the
  wrong class (names that go with a place: same city) - at a million records the full
  agreement on birth date had m = 0.0008 and no pair reached 0.99.

Everything runs in a DuckDB connection of its own, in memory, seeded, with EM on one
thread and the output sorted, so the same input gives the same pairs. When there is too
little to train on, or training does not converge, the result is an empty frame and the
reason says why (never an exception): identity resolution then goes on with the
deterministic links alone.
"""

from __future__ import annotations

import copy
import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

# splink 5 exports no exceptions module; this is where EM's 'no pairs to train on' lives
from splink.internals.exceptions import EMTrainingException

# the columns (and their order) of the candidate records the model reads
CANDIDATE_COLUMNS = (
    "record_key",
    "first_name",
    "last_name",
    "birth_date",
    "postcode",
    "city",
    "address",
)
OUTPUT_SCHEMA = pa.schema(
    [
        ("record_key_l", pa.string()),
        ("record_key_r", pa.string()),
        ("match_probability", pa.float64()),
        ("match_weight", pa.float64()),
    ]
)
OUTPUT_COLUMNS = tuple(OUTPUT_SCHEMA.names)

# the seed of every random step (u sampling; EM pair sampling is hash-based): a project-wide
# constant, not a var, since a different seed changes nothing a user should tune
RANDOM_SEED = 42

# below this many candidate records the m and u estimates are noise: no model, no pairs
MIN_TRAINING_RECORDS = 1000
# random pairs drawn to estimate u (splink stops early once every level has been seen 100
# times); a level rarer than this sees is scored with u = 1e-6 (untrained_agreement_levels)
U_MAX_PAIRS = 1e7
# EM pairs per training rule: enough for stable m estimates, bounded at any data size
EM_MAX_PAIRS = 2e6
EM_MAX_ITERATIONS = 100
EM_CONVERGENCE = 1e-4
# splink's own connection spills to a temporary directory beyond this (DuckDB's default is
# 80% of RAM), so that it and the warehouse's connection (profiles/profiles.yml,
# memory_limit), which run in one process, stay within a bound together
MEMORY_LIMIT = "1GB"
# the EM rounds: each trains the comparisons its columns are not in; each block is dense in
# matches at any size (a rule on names alone is not: see the module docstring)
EM_BLOCKING_RULES = (
    ("birth_date", "postcode"),
    ("first_name", "last_name", "birth_date"),
    ("first_name", "last_name", "postcode"),
)
# the deterministic rule the prior match probability is estimated from, and the share of
# true duplicate pairs assumed to agree on it
PRIOR_RULE = ("first_name", "last_name", "birth_date")
PRIOR_RULE_RECALL = 0.7


@dataclass(frozen=True)
class MatchResult:
    """Scored pairs; when no model was fitted, why not; the trained model (splink's dict)."""

    pairs: pd.DataFrame
    skipped_reason: str | None = None
    model: dict | None = None


def untrained_agreement_levels(model: dict) -> list[str]:
    """Return the comparisons whose full-agreement level has a u but no m.

    The first level after the null level is full agreement (same name, same birth date,
    same address and postcode): the evidence the model rests on. A level seen among the
    random pairs (u) but in no EM pair has no m, and splink scores it with m = 1e-6: full
    agreement would count as evidence *against* a match - a model that says nothing about
    this data. The other way round is harmless: a level so rare that no random pair shows
    it (the same address, at a million records) is scored with u = 1e-6, more than its
    true u, which only understates the evidence; and a level seen in neither cannot occur
    in the data (no record has an address, say).
    """
    untrained = []
    for comparison in model["comparisons"]:
        levels = comparison["comparison_levels"]
        agreement = next(level for level in levels if not level.get("is_null_level"))
        if "u_probability" in agreement and "m_probability" not in agreement:
            untrained.append(
                f"{comparison['output_column_name']} ({agreement['label_for_charts']})"
            )
    return untrained


def fill_untrained_levels(model: dict) -> dict:
    """Return ``model`` with an m for every level that has a u but no m.

    The m is the smaller of the level's u and the least m EM trained in that comparison:
    a level EM never saw is never evidence for a match (weight at most 0), and no more
    common among matches than the rarest level EM did see. Without it the level has no
    match weight, splink's sum over the comparisons is null for every pair at that level,
    and the pair silently drops out. Two cases, both from training blocks dense in
    matches: disagreement (the location 'other' level in a small data set, where no
    non-match in the block differs in postcode and city) comes out as evidence against,
    as it should; the same address in another postcode (a pair with a postcode missing,
    while the blocks that train the location need a birth date) comes out neutral. Full
    agreement is never filled in: a model that never saw it is refused
    (:func:`untrained_agreement_levels`).
    """
    filled = copy.deepcopy(model)
    for comparison in filled["comparisons"]:
        levels = [
            level for level in comparison["comparison_levels"] if not level.get("is_null_level")
        ]
        trained = [level["m_probability"] for level in levels if "m_probability" in level]
        for level in levels:
            if "u_probability" in level and "m_probability" not in level:
                level["m_probability"] = min([level["u_probability"], *trained])
    return filled


@contextmanager
def _quiet_splink() -> Iterator[None]:
    """Keep splink's warnings about levels it could not train out of the dbt log.

    match_records checks the levels that matter itself and says so in its result.
    """
    splink_logger = logging.getLogger("splink")
    level = splink_logger.level
    splink_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        splink_logger.setLevel(level)


def empty_pairs() -> pd.DataFrame:
    """Return an empty frame with the output columns and types."""
    return pd.DataFrame(
        {
            "record_key_l": pd.Series(dtype="object"),
            "record_key_r": pd.Series(dtype="object"),
            "match_probability": pd.Series(dtype="float64"),
            "match_weight": pd.Series(dtype="float64"),
        }
    )


def to_arrow(pairs: pd.DataFrame) -> pa.Table:
    """Return ``pairs`` as an Arrow table of :data:`OUTPUT_SCHEMA` (typed even when empty)."""
    return pa.Table.from_pandas(
        pairs.loc[:, list(OUTPUT_COLUMNS)], schema=OUTPUT_SCHEMA, preserve_index=False
    )


def _comparisons() -> list:
    """Return splink comparisons: first name, last name, birth date, location."""

    def name(column: str) -> object:
        return cl.CustomComparison(
            output_column_name=column,
            comparison_levels=[
                cll.NullLevel(column),
                cll.ExactMatchLevel(column),
                cll.LevenshteinLevel(column, 1),
                cll.JaroWinklerLevel(column, 0.88),
                cll.ElseLevel(),
            ],
        )

    def both(column: str) -> str:
        return f'"{column}_l" = "{column}_r"'

    location = cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            cll.CustomLevel(
                " and ".join(
                    f'("{c}_l" is null or "{c}_r" is null)' for c in ("postcode", "city", "address")
                ),
                label_for_charts="postcode, city and address missing",
            ).configure(is_null_level=True),
            cll.CustomLevel(
                f"{both('address')} and {both('postcode')}",
                label_for_charts="same address and postcode",
            ),
            cll.CustomLevel(
                f"{both('address')} and {both('city')}",
                label_for_charts="same address and city",
            ),
            cll.CustomLevel(
                f'jaro_winkler_similarity("address_l", "address_r") >= 0.9 and {both("postcode")}',
                label_for_charts="similar address, same postcode",
            ),
            # two known, different addresses in one place are evidence against a match,
            # not for it: kept apart from the same place with an address missing
            cll.CustomLevel(
                f'"address_l" <> "address_r" and ({both("postcode")} or {both("city")})',
                label_for_charts="another address, same postcode or city",
            ),
            cll.CustomLevel(both("postcode"), label_for_charts="same postcode, an address missing"),
            cll.CustomLevel(both("city"), label_for_charts="same city, an address missing"),
            cll.ElseLevel(),
        ],
    )
    birth_date = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_levels=[
            cll.NullLevel("birth_date"),
            cll.ExactMatchLevel("birth_date"),
            cll.LevenshteinLevel("birth_date", 1),
            cll.ElseLevel(),
        ],
    )
    return [name("first_name"), name("last_name"), birth_date, location]


def _prediction_blocking_rules() -> list:
    initials = ("substr(first_name, 1, 1)", "substr(last_name, 1, 1)")
    return [
        block_on("postcode", *initials),
        block_on("birth_date", *initials),
        block_on("birth_date", "postcode"),
    ]


# described for the docs and the tests; _prediction_blocking_rules builds them
PREDICTION_BLOCKING_RULES = (
    "same postcode and both initials",
    "same birth date and both initials",
    "same birth date and postcode",
)


def _prepare(candidates: pd.DataFrame) -> pd.DataFrame:
    """Return the candidate columns, sorted, birth dates as ISO text, blanks as nulls."""
    missing = [column for column in CANDIDATE_COLUMNS if column not in candidates.columns]
    if missing:
        raise ValueError(f"candidate records lack columns: {', '.join(missing)}")
    frame = candidates.loc[:, list(CANDIDATE_COLUMNS)].copy()
    birth = pd.to_datetime(frame["birth_date"], errors="coerce")
    frame["birth_date"] = birth.dt.strftime("%Y-%m-%d").where(birth.notna(), None)
    for column in CANDIDATE_COLUMNS:
        if column == "birth_date":
            continue
        text = frame[column].astype("string").str.strip()
        frame[column] = text.where(text != "", None).astype(object)
        frame[column] = frame[column].where(frame[column].notna(), None)
    if frame["record_key"].isna().any() or frame["record_key"].duplicated().any():
        raise ValueError("record_key must be unique and not null")
    return frame.sort_values("record_key", kind="stable").reset_index(drop=True)


def _settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_key",
        comparisons=_comparisons(),
        blocking_rules_to_generate_predictions=_prediction_blocking_rules(),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
        max_iterations=EM_MAX_ITERATIONS,
        em_convergence=EM_CONVERGENCE,
        linker_uid="identity",
    )


def _train(
    linker: Linker,
    connection: duckdb.DuckDBPyConnection,
    *,
    seed: int,
    u_max_pairs: float,
    em_max_pairs: float,
) -> str | None:
    """Train the prior, u and m in place; return why training failed, or None."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on(*PRIOR_RULE)], recall=PRIOR_RULE_RECALL
    )
    if linker.misc.save_model_to_json()["probability_two_random_records_match"] <= 0:
        # a prior of 0 is an infinite negative weight: EM cannot start from it
        return f"no two records agree on {', '.join(PRIOR_RULE)}: no prior match probability"
    # u counts are integers and the sample is hash-based: exact in parallel too
    linker.training.estimate_u_using_random_sampling(
        max_pairs=u_max_pairs, seed=seed, min_count_per_level=100
    )
    # EM sums floating-point probabilities over pairs: in parallel the order of the sums,
    # and so the last bits of m, varies from run to run - enough to move a pair across the
    # threshold. One thread makes it exact; EM is not the slow part.
    threads = connection.execute("select current_setting('threads')").fetchall()[0][0]
    connection.execute("set threads = 1")
    try:
        for rule in EM_BLOCKING_RULES:
            try:
                # the model has no term-frequency adjustments, so EM on the counts of each
                # agreement pattern is the same EM, with iterations that cost nothing
                session = linker.training.estimate_parameters_using_expectation_maximisation(
                    block_on(*rule),
                    estimate_without_term_frequencies=True,
                    max_pairs=em_max_pairs,
                )
            except EMTrainingException as error:
                return f"EM on {' and '.join(rule)} found nothing to train on: {error}"
            # splink logs 'EM converged' whether or not it stopped early; a round that ran
            # out of iterations has a history of max_iterations + 1 parameter sets
            if len(session._core_model_settings_history) - 1 >= EM_MAX_ITERATIONS:
                return (
                    f"EM on {' and '.join(rule)} did not converge within "
                    f"{EM_MAX_ITERATIONS} iterations"
                )
    finally:
        connection.execute(f"set threads = {int(threads)}")
    return None


def _predict(
    linker: Linker, connection: duckdb.DuckDBPyConnection, threshold: float
) -> pd.DataFrame:
    """Score the blocked pairs; return those at or above ``threshold``, keys ordered."""
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pairs = connection.execute(
        f"""
        select distinct
            least(record_key_l, record_key_r) as record_key_l,
            greatest(record_key_l, record_key_r) as record_key_r,
            cast(match_probability as double) as match_probability,
            cast(match_weight as double) as match_weight
        from {predictions.physical_name}
        where match_probability >= ?
        order by record_key_l, record_key_r
        """,
        [threshold],
    ).df()
    return pairs.astype({"record_key_l": object, "record_key_r": object})


def match_records(
    candidates: pd.DataFrame,
    *,
    threshold: float,
    seed: int = RANDOM_SEED,
    min_records: int = MIN_TRAINING_RECORDS,
    u_max_pairs: float = U_MAX_PAIRS,
    em_max_pairs: float = EM_MAX_PAIRS,
) -> MatchResult:
    """Train a splink model on ``candidates`` and return the pairs scored at ``threshold`` or above.

    ``candidates`` holds :data:`CANDIDATE_COLUMNS`, already normalised for matching (the
    SQL model does it). Pairs have ``record_key_l < record_key_r`` and are sorted by them.
    The result is empty, with ``skipped_reason`` set, when there are fewer than
    ``min_records`` records with a first and last name, when an EM round finds no pairs or
    does not converge within :data:`EM_MAX_ITERATIONS`, or when a comparison's
    full-agreement level was seen among the random pairs but never among the EM pairs
    (:func:`untrained_agreement_levels`).
    """
    frame = _prepare(candidates)
    frame = frame[frame["first_name"].notna() & frame["last_name"].notna()]
    if len(frame) < min_records:
        return MatchResult(
            empty_pairs(),
            f"{len(frame)} candidate records, fewer than the {min_records} needed to train",
        )
    # splink's own connection: its scratch tables never reach the warehouse
    spill = tempfile.TemporaryDirectory(prefix="splink-")
    connection = duckdb.connect(":memory:")
    connection.execute("set enable_progress_bar = false")
    connection.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    connection.execute("set temp_directory = ?", [spill.name])
    try:
        with _quiet_splink():
            table = DuckDBAPI(connection).register(frame, dataset_display_name="candidates")
            linker = Linker(table, _settings(), log_level=None)
            reason = _train(
                linker, connection, seed=seed, u_max_pairs=u_max_pairs, em_max_pairs=em_max_pairs
            )
            model = linker.misc.save_model_to_json()
            untrained = untrained_agreement_levels(model) if reason is None else []
            if untrained:
                reason = "too little evidence: full agreement never seen among EM pairs: " + (
                    ", ".join(untrained)
                )
            if reason is not None:
                return MatchResult(empty_pairs(), reason, model)
            model = fill_untrained_levels(model)
            linker = Linker(table, model, log_level=None)
            pairs = _predict(linker, connection, threshold)
    finally:
        connection.close()
        spill.cleanup()
    return MatchResult(pairs, None, model)


# --- synthetic records with planted truth (tests and the benchmark) -------------------

_FIRST_NAMES_TEXT = (
    "anna lukas maria jonas sophie leon emma paul laura felix julia max lena elias sarah "
    "noah mia ben lea finn giulia marco chiara luca sofia matteo olivia james amelia "
    "oliver isla jack lucia hugo martina pablo ines lars ingrid mikkel freya nils astrid "
    "stefan claudia andreas petra thomas sabine michael katharina daniel christina tobias "
    "johanna jan theresa david hannah simon "
)
FIRST_NAMES = np.array(_FIRST_NAMES_TEXT.split())
_LAST_NAMES_TEXT = (
    "muller schmidt schneider fischer weber meyer wagner becker schulz hoffmann koch "
    "richter klein wolf schroder neumann rossi russo ferrari esposito bianchi romano "
    "colombo ricci smith jones taylor brown williams wilson garcia rodriguez martinez "
    "lopez sanchez perez hansen johansen olsen larsen andersen pedersen nilsen berg haas "
    "lang braun zimmermann kruger hartmann lange werner krause meier lehmann kohler huber "
    "kaiser fuchs peters "
)
LAST_NAMES = np.array(_LAST_NAMES_TEXT.split())
_STREETS_TEXT = (
    "hauptstrasse,bahnhofstrasse,gartenstrasse,schulstrasse,dorfstrasse,bergstrasse,"
    "lindenstrasse,kirchstrasse,via roma,via garibaldi,high street,station road,"
    "church street,calle mayor,storgata,ringstrasse,waldweg,am markt,mozartstrasse,"
    "goethestrasse"
)
STREETS = np.array(_STREETS_TEXT.split(","))


def _typo(values: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Return each string with one edit: a substitution, a deletion or a transposition."""
    out = values.astype(object).copy()
    kinds = rng.integers(0, 3, len(values))
    alphabet = "abcdefghijklmnopqrstuvwxyz"
    for index, (text, kind) in enumerate(zip(values, kinds, strict=True)):
        # edits stay off the first letter (they rarely hit it; blocking relies on it)
        position = int(rng.integers(2 if kind == 2 else 1, max(len(text) - 1, 3)))
        if kind == 0:
            letter = alphabet[int(rng.integers(0, 26))]
            if letter == text[position]:
                letter = "z" if letter != "z" else "y"
            out[index] = text[:position] + letter + text[position + 1 :]
        elif kind == 1:
            out[index] = text[:position] + text[position + 1 :]
        else:
            out[index] = (
                text[: position - 1] + text[position] + text[position - 1] + text[position + 1 :]
            )
    return out


@dataclass(frozen=True)
class SyntheticRecords:
    """Candidate records and the pairs planted among them, each pair with its kind."""

    records: pd.DataFrame
    planted: pd.DataFrame  # record_key_l, record_key_r, kind


def synthetic_records(
    people: int,
    seed: int,
    *,
    duplicate_share: float = 0.05,
    namesake_share: float = 0.01,
    family_share: float = 0.01,
    postcodes: int | None = None,
    missing_share: float = 0.05,
    typo_share: float = 0.05,
) -> SyntheticRecords:
    """Return ``people`` synthetic persons' records, with planted duplicates and traps.

    Each person has one record; a ``duplicate_share`` of them also a second one: a
    'probabilistic_only' duplicate (same birth date, postcode, city and address; the
    first or last name with one typo in a third of them, the birth date or the address
    with one in a ``typo_share`` of them). Traps are new persons, not
    duplicates: a 'namesake' (same first and last name and city as someone, another
    birth date and address) and a 'family' member (same last name, address, postcode and
    city, another first name and birth date). Noise: a ``missing_share`` of birth dates,
    postcodes and addresses is null. Vectorised apart from the typos.
    """
    rng = np.random.default_rng(seed)
    postcodes = postcodes or max(people // 25, 50)
    cities = max(postcodes // 40, 5)
    # a Zipf-like name popularity, as real name frequencies are
    first_weights = 1 / np.arange(1, len(FIRST_NAMES) + 1) ** 0.8
    last_weights = 1 / np.arange(1, len(LAST_NAMES) + 1) ** 0.8
    first = rng.choice(FIRST_NAMES, people, p=first_weights / first_weights.sum())
    last = rng.choice(LAST_NAMES, people, p=last_weights / last_weights.sum())
    birth = np.datetime64("1940-01-01") + rng.integers(0, 365 * 65, people).astype("timedelta64[D]")
    postcode_index = rng.integers(0, postcodes, people)
    postcode = np.char.add("p", postcode_index.astype(str)).astype(object)
    city = np.char.add("city", (postcode_index % cities).astype(str)).astype(object)
    street = rng.choice(STREETS, people)
    number = rng.integers(1, 200, people)
    address = np.char.add(np.char.add(street.astype(str), " "), number.astype(str)).astype(object)
    base = pd.DataFrame(
        {
            "first_name": first.astype(object),
            "last_name": last.astype(object),
            "birth_date": birth,
            "postcode": postcode,
            "city": city,
            "address": address,
        }
    )

    def pick(share: float) -> np.ndarray:
        return np.sort(rng.choice(people, round(people * share), replace=False))

    # duplicates: a copy of the person, one name typo in a third of them
    duplicate_of = pick(duplicate_share)
    duplicates = base.iloc[duplicate_of].copy()
    typo = rng.random(len(duplicates)) < 1 / 3
    typo_first = typo & (rng.random(len(duplicates)) < 0.5)
    typo_last = typo & ~typo_first
    duplicates.loc[typo_first, "first_name"] = _typo(
        duplicates.loc[typo_first, "first_name"].to_numpy(str), rng
    )
    duplicates.loc[typo_last, "last_name"] = _typo(
        duplicates.loc[typo_last, "last_name"].to_numpy(str), rng
    )
    # and a typo in the birth date (one digit of the day) or the address in a few of them
    birth = pd.to_datetime(duplicates["birth_date"])
    day = birth.dt.day.to_numpy()
    # a day ending in 0 goes up one, any other down one: one digit changes, unless the
    # month rolls over (the 1st, the 30th), which are left alone
    date_typo = (rng.random(len(duplicates)) < typo_share) & (day != 1) & (day != 30)
    shift = pd.to_timedelta(np.where(day % 10 == 0, 1, -1), unit="D")
    duplicates["birth_date"] = birth.where(~date_typo, birth + shift).to_numpy()
    address_typo = rng.random(len(duplicates)) < typo_share
    duplicates.loc[address_typo, "address"] = _typo(
        duplicates.loc[address_typo, "address"].to_numpy(str), rng
    )

    # namesakes: same names and city, their own birth date, postcode in the city, address
    namesake_of = pick(namesake_share)
    namesakes = base.iloc[namesake_of].copy()
    namesakes["birth_date"] = np.datetime64("1940-01-01") + rng.integers(
        0, 365 * 65, len(namesakes)
    ).astype("timedelta64[D]")
    namesakes["address"] = (
        rng.choice(STREETS, len(namesakes)).astype(object)
        + " "
        + rng.integers(200, 400, len(namesakes)).astype(str)
    )
    namesakes["postcode"] = "q" + pd.Series(namesake_of).astype(str).to_numpy()

    # family members: same last name and home, another first name and birth date
    family_of = pick(family_share)
    family = base.iloc[family_of].copy()
    shift = rng.integers(1, len(FIRST_NAMES), len(family))
    own_first = pd.Series(first[family_of]).map({n: i for i, n in enumerate(FIRST_NAMES)})
    family["first_name"] = FIRST_NAMES[(own_first.to_numpy() + shift) % len(FIRST_NAMES)]
    family["birth_date"] = family["birth_date"].to_numpy() + rng.integers(
        365 * 2, 365 * 40, len(family)
    ).astype("timedelta64[D]") * rng.choice([-1, 1], len(family))

    records = pd.concat([base, duplicates, namesakes, family], ignore_index=True)
    origin = np.concatenate([np.arange(people), duplicate_of, namesake_of, family_of])
    kind = np.concatenate(
        [
            np.full(people, "person"),
            np.full(len(duplicate_of), "probabilistic_only"),
            np.full(len(namesake_of), "namesake"),
            np.full(len(family_of), "family"),
        ]
    )
    # noise: missing values, independently per record
    for column in ("birth_date", "postcode", "address"):
        missing = rng.random(len(records)) < missing_share
        records.loc[missing, column] = None
    # keys in a shuffled order, so that the key order says nothing about the truth
    order = rng.permutation(len(records))
    keys = np.array([f"shop:S{i:08d}" for i in range(len(records))], dtype=object)[order]
    records.insert(0, "record_key", keys)
    records["birth_date"] = pd.to_datetime(records["birth_date"]).dt.date

    planted_rows = kind != "person"
    person_key = keys[:people][origin[planted_rows]]
    other_key = keys[planted_rows]
    planted = pd.DataFrame(
        {
            "record_key_l": np.minimum(person_key, other_key),
            "record_key_r": np.maximum(person_key, other_key),
            "kind": kind[planted_rows],
        }
    )
    records = records.sort_values("record_key").reset_index(drop=True)
    return SyntheticRecords(records=records, planted=planted)
