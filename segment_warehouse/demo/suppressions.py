"""Suppression-list entries of one chunk: what the email and ad tools report back."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segment_warehouse.demo.columns import _nulls_where, _pick, _styles, _timestamps
from segment_warehouse.demo.personas import _S_SUPPRESSIONS

#: reason -> (share of customer accounts, channel or None for every channel)
SUPPRESSION_PLAN: dict[str, tuple[float, str | None]] = {
    "hard_bounce": (0.020, "email"),
    "unsubscribed": (0.010, "email"),
    "spam_complaint": (0.003, "email"),
    "do_not_contact": (0.002, None),
}


class _SuppressionTables:
    """Suppression entries of a chunk: mixed into the generator's _Chunk."""

    def suppressions(self) -> tuple[pa.Table, np.ndarray]:
        rng = self.rng(_S_SUPPRESSIONS)
        draw = rng.random(self.n)
        reason = np.full(self.n, -1)
        threshold = 0.0
        for index, (share, _) in enumerate(SUPPRESSION_PLAN.values()):
            reason[(draw >= threshold) & (draw < threshold + share)] = index
            threshold += share
        account = np.flatnonzero(reason >= 0)
        reason = reason[account]
        n = account.size
        signup = self.signup_secs[account]
        end = self.cal.end_secs
        secs = signup + (rng.random(n) * np.maximum(end - signup, 0)).astype(np.int64)
        channels = [channel for _, channel in SUPPRESSION_PLAN.values()]
        table = pa.table(
            {
                "suppression_id": self.keys("S", n),
                "customer_id": self.customer_ids().take(pa.array(account)),
                "email": pa.nulls(n, pa.string()),
                "phone": pa.nulls(n, pa.string()),
                "channel": _nulls_where(
                    _pick([c or "" for c in channels], reason),
                    np.array([channels[r] is None for r in reason], dtype=bool),
                ),
                "reason": _pick(list(SUPPRESSION_PLAN), reason),
                "recorded_at": _timestamps(secs, _styles(rng, n)),
            }
        )
        return table, account
