"""Probabilistic identity matches: pairs of shop customer records that are one person.

Thin: reads int_identity_match_candidates and calls
segment_warehouse.modelling.identity_matching.match_records, which trains a splink model on
the candidates in a DuckDB connection of its own (not this session's) and scores the
blocked pairs. Returns an empty table of the same columns, and says why in the log, when
var identity.probabilistic is false or there is too little to train on.
"""

import logging

from segment_warehouse.modelling import identity_matching, threads

logger = logging.getLogger("segment_warehouse.identity")


def _enabled(value) -> bool:
    """Read a boolean var as the config renders it ('True', 'false', True...)."""
    return str(value).strip().lower() not in ("false", "0", "no", "off", "none", "")


def model(dbt, session):
    """Train, score and return the pairs at or above identity.match_threshold."""
    dbt.config(materialized="table")
    with threads.native_threads(dbt.config.get("dbt_threads")):
        built = build(dbt, session)
    return built


def build(dbt, session):
    """Do the model's work (called with the native thread pools limited)."""
    threshold = float(dbt.config.get("match_threshold"))
    candidates = dbt.ref("int_identity_match_candidates")
    if not _enabled(dbt.config.get("probabilistic")):
        reason = "var identity.probabilistic is false"
        pairs = identity_matching.empty_pairs()
    else:
        result = identity_matching.match_records(
            candidates.order("record_key").df(),
            threshold=threshold,
            seed=identity_matching.RANDOM_SEED,
        )
        reason, pairs = result.skipped_reason, result.pairs
    if reason is not None:
        logger.warning("int_identity_probabilistic_matches: no pairs, %s", reason)
    return identity_matching.to_arrow(pairs)
