"""Shop orders, their lines and returns of one chunk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_warehouse.demo.columns import (
    _DATE_ONLY,
    _choice,
    _money,
    _nulls_where,
    _pick,
    _ranks,
    _scatter,
    _small_ints,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.personas import (
    _S_LINES,
    _S_RETURNS,
    PRODUCT_COUNT,
    SECONDS_PER_DAY,
    _persona_array,
)
from segment_warehouse.demo.reference import (
    _CHANNEL_SPELLINGS,
    _COUPONS,
    _HOLIDAY_COUPONS,
    _RETURN_REASONS,
    _flatten,
)


class _OrderTables:
    """Shop orders, order lines and returns of a chunk: mixed into the generator's _Chunk."""

    # -- orders and lines -------------------------------------------------------------------

    def order_values(self) -> None:
        rng = self.rng(_S_LINES)
        cat = self.ctx.catalogue
        persona = self.persona[self.o_person]
        n_orders = persona.size
        b2b = self.is_b2b[self.o_person]
        lam = np.where(b2b, 4.0, _persona_array("lines_lambda")[persona])
        n_lines = np.minimum(1 + rng.poisson(lam), 12)
        line_order, line_rank = _ranks(n_lines)
        n = line_order.size
        line_persona = persona[line_order]
        shift = _persona_array("value_shift")[line_persona]
        quantile = 1.0 / (1.0 + np.exp(-(shift + rng.logistic(size=n))))
        position = np.minimum(
            (quantile * cat.sellable_by_price.size).astype(np.int64), cat.sellable_by_price.size - 1
        )
        product = cat.sellable_by_price[position]
        currency = self.currency[self.o_account][line_order]
        unit = cat.price_cents[currency, product]
        quantity = rng.choice(np.arange(1, 7), size=n, p=[0.78, 0.14, 0.05, 0.015, 0.01, 0.005])
        quantity = np.where(b2b[line_order], np.minimum(1 + rng.poisson(4.0, n), 15), quantity)
        quantity = np.where(cat.list_cents[product] > 20_000, 1, quantity)
        on_sale = rng.random(n) < _persona_array("sale_prob")[line_persona]
        sale_pct = rng.choice([0.1, 0.2, 0.3, 0.5], size=n, p=[0.4, 0.3, 0.2, 0.1])
        line_discount = np.where(on_sale, np.rint(quantity * unit * sale_pct), 0).astype(np.int64)
        line_net = quantity * unit - line_discount
        order_net = np.rint(np.bincount(line_order, weights=line_net, minlength=n_orders)).astype(
            np.int64
        )
        has_coupon = rng.random(n_orders) < _persona_array("coupon_prob")[persona]
        coupon_pct = rng.choice([0.05, 0.1, 0.15, 0.2], size=n_orders)
        coupon = np.where(has_coupon, np.rint(order_net * coupon_pct), 0).astype(np.int64)
        day = (self.o_secs - self.cal.start_secs) // SECONDS_PER_DAY
        seasonal = self.cal.holiday_mask[day] & (rng.random(n_orders) < 0.6)
        code = np.where(
            seasonal,
            len(_COUPONS) + rng.integers(0, len(_HOLIDAY_COUPONS), n_orders),
            rng.integers(0, len(_COUPONS), n_orders),
        )
        self.o_currency, self.o_net, self.o_coupon = (
            self.currency[self.o_account],
            order_net,
            coupon,
        )
        self.o_amount = order_net - coupon
        self.o_coupon_code = _nulls_where(_pick(_COUPONS + _HOLIDAY_COUPONS, code), ~has_coupon)
        self.o_first_line = np.cumsum(n_lines) - n_lines
        self.o_lines = n_lines
        self.l_order, self.l_number, self.l_product = line_order, line_rank + 1, product
        self.l_quantity, self.l_currency = quantity, currency
        self.l_discount, self.l_net = line_discount, line_net
        self.order_rng = rng

    def order_ids(self) -> pa.Array:
        if not hasattr(self, "_order_ids"):
            self._order_ids = self.keys("O", self.o_person.size)
        return self._order_ids

    def orders(self) -> pa.Table:
        rng = self.order_rng
        n = self.o_person.size
        style = np.where(
            self.o_channel == 2, rng.choice([0, _DATE_ONLY], size=n, p=[0.6, 0.4]), _styles(rng, n)
        )
        channel_values, channel_offsets, channel_sizes = _flatten(_CHANNEL_SPELLINGS)
        channel = channel_values.take(
            pa.array(
                channel_offsets[self.o_channel]
                + (rng.random(n) * channel_sizes[self.o_channel]).astype(np.int64)
            )
        )
        updated = np.minimum(
            self.o_secs + rng.integers(0, 10 * SECONDS_PER_DAY, n), self.cal.end_secs
        )
        return pa.table(
            {
                "order_id": self.order_ids(),
                "customer_id": self.customer_ids().take(pa.array(self.o_account)),
                "ordered_at": _timestamps(self.o_secs, style),
                "amount": _money(self.o_amount),
                "currency": self.geo.currency_strings.take(pa.array(self.o_currency)),
                "channel": channel,
                "discount_amount": _money(self.o_coupon),
                "coupon_code": self.o_coupon_code,
                "updated_at": _timestamps(updated, _styles(rng, n)),
            }
        )

    def line_ids(self) -> pa.Array:
        if not hasattr(self, "_line_ids"):
            self._line_ids = pc.binary_join_element_wise(
                self.order_ids().take(pa.array(self.l_order)), _small_ints(self.l_number), "-"
            )
        return self._line_ids

    def order_lines(self) -> pa.Table:
        cat = self.ctx.catalogue
        discounted = np.flatnonzero(self.l_discount)
        n = self.l_order.size
        return pa.table(
            {
                "order_line_id": self.line_ids(),
                "order_id": self.order_ids().take(pa.array(self.l_order)),
                "product_id": cat.product_ids.take(pa.array(self.l_product)),
                "quantity": _small_ints(self.l_quantity),
                "unit_price": cat.price_strings.take(
                    pa.array(self.l_currency * PRODUCT_COUNT + self.l_product)
                ),
                "discount_amount": _scatter(
                    n, discounted, _money(self.l_discount[discounted]), "0.00"
                ),
            }
        )

    # -- returns, feedback -------------------------------------------------------------------

    def return_events(self) -> None:
        rng = self.rng(_S_RETURNS)
        n = self.o_person.size
        persona = self.persona[self.o_person]
        day = (self.o_secs - self.cal.start_secs) // SECONDS_PER_DAY
        prob = _persona_array("return_prob")[persona] * np.where(self.cal.holiday_mask[day], 1.4, 1)
        returned_at = self.o_secs + rng.integers(3 * SECONDS_PER_DAY, 40 * SECONDS_PER_DAY, n)
        returned = (rng.random(n) < prob) & (self.o_amount > 0) & (returned_at <= self.cal.end_secs)
        self.o_returned = returned
        order = np.flatnonzero(returned)
        k = order.size
        whole = rng.random(k) < 0.3
        line = self.o_first_line[order] + (rng.random(k) * self.o_lines[order]).astype(np.int64)
        share = self.o_amount[order] / np.maximum(self.o_net[order], 1)
        refund = np.where(whole, self.o_amount[order], np.rint(self.l_net[line] * share)).astype(
            np.int64
        )
        self.r_order, self.r_line = order, np.where(whole, -1, line)
        self.r_secs, self.r_refund, self.returns_rng = returned_at[order], refund, rng

    def returns(self) -> pa.Table:
        rng = self.returns_rng
        k = self.r_order.size
        has_line = self.r_line >= 0
        line_ids = self.line_ids().take(pa.array(np.where(has_line, self.r_line, 0)))
        reason = _nulls_where(_choice(rng, _RETURN_REASONS, k), rng.random(k) < 0.1)
        return pa.table(
            {
                "return_id": self.keys("R", k),
                "order_id": self.order_ids().take(pa.array(self.r_order)),
                "returned_at": _timestamps(self.r_secs, _styles(rng, k)),
                "refund_amount": _money(self.r_refund),
                "currency": self.geo.currency_strings.take(pa.array(self.o_currency[self.r_order])),
                "order_line_id": _nulls_where(line_ids, ~has_line),
                "reason": reason,
            }
        )
