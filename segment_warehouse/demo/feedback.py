"""CRM feedback (surveys, reviews, complaints) and consent events of one chunk."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pyarrow as pa

from segment_warehouse.demo.columns import (
    _nulls_where,
    _pick,
    _ranks,
    _small_ints,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.personas import (
    _DUP_STORE,
    _S_CONSENTS,
    _S_FEEDBACK,
    CONSENT_CHANNELS,
    CONSENT_PURPOSES,
    CONSENT_TRUTH_SCHEMA,
    SECONDS_PER_DAY,
    _persona_array,
)
from segment_warehouse.demo.reference import _COMMENTS, _flatten


class _ConsentEvents(NamedTuple):
    """The consent events of a chunk as drawn, before any defect: indexed by row."""

    account: np.ndarray
    channel: np.ndarray
    purpose: np.ndarray
    granted: np.ndarray
    secs: np.ndarray


class _FeedbackTables:
    """Feedback and consents of a chunk: mixed into the generator's _Chunk."""

    def feedback(self) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        rng = self.rng(_S_FEEDBACK)
        n = self.o_person.size
        persona = self.persona[self.o_person]
        returned = self.o_returned
        prob = np.minimum(_persona_array("feedback_prob")[persona] * np.where(returned, 3, 1), 0.6)
        submitted = self.o_secs + rng.integers(SECONDS_PER_DAY, 21 * SECONDS_PER_DAY, n)
        pick = (rng.random(n) < prob) & (submitted <= self.cal.end_secs)
        order = np.flatnonzero(pick)
        k = order.size
        was_returned = returned[order]
        kind = np.where(
            was_returned,
            rng.choice(3, size=k, p=[0.3, 0.25, 0.45]),
            rng.choice(3, size=k, p=[0.5, 0.38, 0.12]),
        )  # survey, review, complaint
        mood = _persona_array("satisfaction")[persona[order]] - 3.0 * was_returned
        nps = np.clip(np.rint(rng.normal(mood, 1.8)), 0, 10).astype(np.int64)
        rating = np.clip(np.rint(rng.normal(1 + mood / 2.5, 0.9)), 1, 5).astype(np.int64)
        score = np.where(
            kind == 0,
            np.where(nps >= 9, 0, np.where(nps >= 7, 1, 2)),
            np.where(rating >= 4, 0, np.where(rating == 3, 1, 2)),
        )
        score = np.where(kind == 2, 2, score)
        comments, offsets, sizes = _flatten(_COMMENTS)
        comment = comments.take(
            pa.array(offsets[score] + (rng.random(k) * sizes[score]).astype(np.int64))
        )
        with_comment = np.select(
            [kind == 2, kind == 1], [True, rng.random(k) < 0.5], rng.random(k) < 0.2
        )
        resolved = submitted[order] + rng.integers(3600, 14 * SECONDS_PER_DAY, k)
        unresolved = (kind != 2) | (rng.random(k) < 0.2) | (resolved > self.cal.end_secs)
        order_ids = self.order_ids().take(pa.array(order))
        return (
            pa.table(
                {
                    "feedback_id": self.keys("F", k),
                    "customer_id": self.customer_ids().take(pa.array(self.o_account[order])),
                    "order_id": _nulls_where(order_ids, rng.random(k) < 0.05),
                    "submitted_at": _timestamps(submitted[order], _styles(rng, k)),
                    "feedback_type": _pick(("survey", "review", "complaint"), kind),
                    "nps_score": _nulls_where(_small_ints(nps), kind != 0),
                    "rating": _nulls_where(_small_ints(rating), kind != 1),
                    "comment": _nulls_where(comment, ~with_comment),
                    "resolved_at": _nulls_where(
                        _timestamps(np.minimum(resolved, self.cal.end_secs), _styles(rng, k)),
                        unresolved,
                    ),
                }
            ),
            self.o_account[order],
            np.where(order_ids.is_null().to_numpy(False), -1, order),
        )

    # -- consents -------------------------------------------------------------------------------

    def consents(self) -> tuple[pa.Table, np.ndarray]:
        rng = self.rng(_S_CONSENTS)
        counts = 1 + rng.binomial(2, 0.35, self.n)
        account, rank = _ranks(counts)
        n = account.size
        signup = self.signup_secs[account]
        end = self.cal.end_secs
        later = signup + (rng.random(n) * (end - signup)).astype(np.int64)
        secs = np.minimum(np.where(rank == 0, signup + rng.integers(0, 120, n), later), end)
        first = rank == 0
        channel = np.where(first, 0, rng.choice(6, size=n, p=[0.32, 0.22, 0.18, 0.09, 0.09, 0.10]))
        purpose = np.where(first, 0, rng.choice(3, size=n, p=[0.6, 0.25, 0.15]))
        status = np.where(rng.random(n) < np.where(first, 0.65, 0.55), 0, 1)
        guest = self.is_guest[account]
        at_store = self.is_secondary[account] & (self.dup_kind[account] == _DUP_STORE)
        first_point = np.select([guest, at_store], [0, 2], rng.choice([0, 1, 3], size=n))
        later_point = rng.choice([4, 5, 2, 6, 7], size=n)
        points = (
            "checkout",
            "newsletter_form",
            "store",
            "signup_form",
            "preference_center",
            "app",
            "customer_service",
            "unsubscribe_link",
        )
        table = pa.table(
            {
                "consent_id": self.keys("K", n),
                "customer_id": self.customer_ids().take(pa.array(account)),
                "channel": _pick(CONSENT_CHANNELS, channel),
                "purpose": _pick(CONSENT_PURPOSES, purpose),
                "status": _pick(("granted", "revoked"), status),
                "recorded_at": _timestamps(secs, _styles(rng, n)),
                "collection_point": _pick(points, np.where(first, first_point, later_point)),
            }
        )
        self.consent_events = _ConsentEvents(account, channel, purpose, status == 0, secs)
        return table, account

    def consent_truth(self, original: pa.Table, planted: pa.Table) -> pa.Table:
        """Return the fail-closed consent decision per account, channel and purpose at the end.

        Computed from the values drawn before any defect was planted (``original`` and
        ``self.consent_events``) and from which rows of ``planted`` (the consents as
        written: the original rows, some edited in place, then the added copies) were
        broken: a row whose customer_id was replaced or emptied belongs to nobody; a row
        with any other defect, and every added copy (duplicate_key, or the key emptied),
        counts as a revocation of its channel (every channel when the channel was broken)
        and its purpose (every purpose when the purpose was broken), effective at its
        time unless the time was broken (then in force whatever the date). Per account,
        channel and purpose the latest event wins: undated revocations first, then the
        latest; at the same second a revocation beats a grant, then the higher consent_id.
        """
        events = self.consent_events
        n = original.num_rows
        before = {name: original.column(name).to_pylist() for name in original.column_names}
        after = {name: planted.column(name).to_pylist() for name in planted.column_names}
        compared = ("customer_id", "channel", "purpose", "status", "recorded_at")
        source_of = {tuple(before[c][i] for c in compared): i for i in range(n)}
        decisions: dict[
            tuple[str, str, str], tuple[tuple[int, int, int, str, int], bool, bool]
        ] = {}
        for row in range(planted.num_rows):
            if row < n:
                source = row
                broken = {c for c in compared if after[c][row] != before[c][row]}
            else:  # an added copy (duplicate key or emptied key) of an original row
                source = source_of[tuple(after[c][row] for c in compared)]
                broken = {"copy"}
            if "customer_id" in broken:
                continue  # replaced or emptied: the row belongs to nobody
            readable = not broken
            at = None if "recorded_at" in broken else int(events.secs[source])
            channels = CONSENT_CHANNELS if "channel" in broken else (before["channel"][source],)
            purposes = CONSENT_PURPOSES if "purpose" in broken else (before["purpose"][source],)
            granted = readable and bool(events.granted[source])
            # Larger ranks win: in force whatever the date, then later, then revocations,
            # then the higher consent_id (none is lowest), then the later row.
            rank = (int(at is None), at or 0, int(not granted), after["consent_id"][row] or "", row)
            for channel in channels:
                for purpose in purposes:
                    key = (before["customer_id"][source], channel, purpose)
                    if key not in decisions or rank > decisions[key][0]:
                        decisions[key] = (rank, granted, readable)
        keys = sorted(decisions)
        return pa.table(
            {
                "customer_id": [k[0] for k in keys],
                "channel": [k[1] for k in keys],
                "purpose": [k[2] for k in keys],
                "is_granted": [decisions[k][1] for k in keys],
                "decision": [
                    "granted" if decisions[k][1] else "revoked" if decisions[k][2] else "unreadable"
                    for k in keys
                ],
                "decided_at": [
                    None if decisions[k][0][0] else decisions[k][0][1] * 1_000_000 for k in keys
                ],
            },
            schema=CONSENT_TRUTH_SCHEMA,
        )
