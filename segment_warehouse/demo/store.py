"""Point-of-sale (store till) transactions of one chunk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from segment_warehouse.demo.columns import (
    _choice,
    _ids,
    _money,
    _nulls_where,
    _scramble,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.personas import _P, _S_STORE, _persona_array
from segment_warehouse.demo.reference import _STORE_COUPONS, COUNTRIES


class _StoreTables:
    """Store transactions of a chunk: mixed into the generator's _Chunk."""

    # -- store transactions -----------------------------------------------------------------

    def store_transactions(self) -> tuple[pa.Table, np.ndarray]:
        rng = self.rng(_S_STORE)
        geo = self.geo
        identified = self.s_person.size
        anonymous = rng.poisson(0.35 * identified) if identified else rng.poisson(0.02 * self.n)
        n = identified + anonymous
        account = np.concatenate([self.s_account, np.full(anonymous, -1)])
        anon_country = rng.choice(len(COUNTRIES), size=anonymous, p=geo.weights)
        country = np.concatenate([self.country[self.s_account], anon_country])
        days = self.cal.sample_days(
            rng, "store", np.zeros(anonymous, np.int64), np.full(anonymous, self.cal.n_days - 1)
        )
        secs = np.concatenate([self.s_secs, self.cal.sample_seconds(rng, days, "store")])
        persona = np.concatenate([self.persona[self.s_person], np.full(anonymous, _P["regular"])])
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
        home = np.concatenate([self.home_store[self.s_account], rng.integers(0, 6, anonymous)])
        store = np.where(rng.random(n) < 0.8, home, rng.integers(0, geo.stores_per_country, n))
        forced = np.concatenate([self.s_forced_card, np.zeros(anonymous, dtype=bool)])
        card_shown = (account >= 0) & ((rng.random(n) < 0.9) | forced)
        id_given = (account >= 0) & (~card_shown | (rng.random(n) < 0.3))
        order = np.argsort(secs, kind="stable")
        account, secs, card_shown, id_given = (
            account[order],
            secs[order],
            card_shown[order],
            id_given[order],
        )
        safe_account = pa.array(np.maximum(account, 0))
        cards = _ids("LC", _scramble(self.numbers, 10_000_000_000, 987_654_321), 10)
        table = pa.table(
            {
                "transaction_id": self.keys("T", n),
                "transacted_at": _timestamps(secs, _styles(rng, n)),
                "amount": _money((gross - discount)[order]),
                "currency": geo.currency_strings.take(pa.array(currency[order])),
                "store_id": _ids("ST", (country * 100 + store + 1)[order], 4),
                "loyalty_card_id": _nulls_where(cards.take(safe_account), ~card_shown),
                "customer_id": _nulls_where(self.customer_ids().take(safe_account), ~id_given),
                "discount_amount": _money(discount[order]),
                "coupon_code": _nulls_where(_choice(rng, _STORE_COUPONS, n), ~coupon[order]),
            }
        )
        return table, account
