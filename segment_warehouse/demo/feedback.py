"""CRM feedback (surveys, reviews, complaints) and consent events of one chunk."""

from __future__ import annotations

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
    SECONDS_PER_DAY,
    _persona_array,
)
from segment_warehouse.demo.reference import _COMMENTS, _flatten


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
        channels = ("email", "sms", "push", "post", "phone")
        channel = np.where(first, 0, rng.choice(5, size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1]))
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
                "channel": _pick(channels, channel),
                "purpose": _pick(("marketing", "profiling", "personalisation"), purpose),
                "status": _pick(("granted", "revoked"), status),
                "recorded_at": _timestamps(secs, _styles(rng, n)),
                "collection_point": _pick(points, np.where(first, first_point, later_point)),
            }
        )
        return table, account
