"""Point-of-sale (store till) transactions of one chunk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segment_warehouse.demo.columns import (
    _choice,
    _ids,
    _money,
    _nulls_where,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.identity import CARD_ONLY_BASE, _card_ids, _card_only_count
from segment_warehouse.demo.personas import _P, _S_CARD_ONLY, _S_STORE, CHUNK_SIZE, _persona_array
from segment_warehouse.demo.reference import _STORE_COUPONS, COUNTRIES


class _StoreTables:
    """Store transactions of a chunk: mixed into the generator's _Chunk."""

    # -- store transactions -----------------------------------------------------------------

    def store_transactions(self) -> tuple[pa.Table, np.ndarray]:
        rng = self.rng(_S_STORE)
        geo = self.geo
        identified = self.s_person.size
        anonymous = rng.poisson(0.35 * identified) if identified else rng.poisson(0.02 * self.n)
        # Card-only persons: known at the till by a loyalty card that no account lists.
        crng = self.rng(_S_CARD_ONLY)
        holders = _card_only_count(crng, self.n)
        holder_visits = 2 + crng.poisson(3.0, holders)
        holder = np.repeat(np.arange(holders), holder_visits)
        held = holder.size
        holder_country = crng.choice(len(COUNTRIES), size=holders, p=geo.weights)
        holder_days = self.cal.sample_days(
            crng, "store", np.zeros(held, np.int64), np.full(held, self.cal.n_days - 1)
        )
        holder_secs = self.cal.sample_seconds(crng, holder_days, "store")
        holder_home = crng.integers(0, geo.stores_per_country, holders)
        anon_country = rng.choice(len(COUNTRIES), size=anonymous, p=geo.weights)
        n = identified + anonymous + held
        account = np.concatenate([self.s_account, np.full(anonymous + held, -1)])
        card_number = np.concatenate(
            [
                self.numbers[self.s_account],
                np.full(anonymous, -1),
                CARD_ONLY_BASE + self.index * CHUNK_SIZE + holder,
            ]
        )
        country = np.concatenate(
            [self.country[self.s_account], anon_country, holder_country[holder]]
        )
        days = self.cal.sample_days(
            rng, "store", np.zeros(anonymous, np.int64), np.full(anonymous, self.cal.n_days - 1)
        )
        secs = np.concatenate(
            [self.s_secs, self.cal.sample_seconds(rng, days, "store"), holder_secs]
        )
        persona = np.concatenate(
            [self.persona[self.s_person], np.full(anonymous + held, _P["regular"])]
        )
        currency = geo.currency_of[country]
        gross_eur = np.clip(
            rng.lognormal(np.log(35.0), 0.75, n) * _persona_array("store_factor")[persona], 1, 2500
        )
        gross = np.rint(gross_eur * 100 * geo.rates[currency]).astype(np.int64)
        discount_prob = np.where(account >= 0, _persona_array("store_discount_prob")[persona], 0.05)
        discounted = rng.random(n) < discount_prob
        discount = np.where(
            discounted, np.rint(gross * rng.choice([0.1, 0.15, 0.2], size=n)), 0
        ).astype(np.int64)
        coupon = discounted & (rng.random(n) < 0.6)
        home = np.concatenate(
            [
                self.home_store[self.s_account],
                rng.integers(0, 6, anonymous),
                holder_home[holder],
            ]
        )
        store = np.where(rng.random(n) < 0.8, home, rng.integers(0, geo.stores_per_country, n))
        forced = np.concatenate([self.s_forced_card, np.zeros(anonymous + held, dtype=bool)])
        card_shown = ((account >= 0) & ((rng.random(n) < 0.9) | forced)) | (
            card_number >= CARD_ONLY_BASE
        )
        id_given = (account >= 0) & (~card_shown | (rng.random(n) < 0.3))
        order = np.argsort(secs, kind="stable")
        account, secs, card_shown, id_given, card_number = (
            account[order],
            secs[order],
            card_shown[order],
            id_given[order],
            card_number[order],
        )
        self.card_truth = self.pos_truth(card_number, card_shown)
        safe_account = pa.array(np.maximum(account, 0))
        table = pa.table(
            {
                "transaction_id": self.keys("T", n),
                "transacted_at": _timestamps(secs, _styles(rng, n)),
                "amount": _money((gross - discount)[order]),
                "currency": geo.currency_strings.take(pa.array(currency[order])),
                "store_id": _ids("ST", (country * 100 + store + 1)[order], 4),
                "loyalty_card_id": _nulls_where(_card_ids(np.maximum(card_number, 0)), ~card_shown),
                "customer_id": _nulls_where(self.customer_ids().take(safe_account), ~id_given),
                "discount_amount": _money(discount[order]),
                "coupon_code": _nulls_where(_choice(rng, _STORE_COUPONS, n), ~coupon[order]),
            }
        )
        return table, account
