"""Customers drawn from BG/NBD and Gamma-Gamma, summarised as the SQL summary would be.

Used to check that the fits recover known parameters and agree with other
implementations, and to benchmark them at scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SimulatedSummary:
    """A per-customer summary in weeks, like ``int_customer_clv_summary``."""

    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary_value: np.ndarray


def simulate_day_summary(
    bg_nbd: dict[str, float],
    gamma_gamma: dict[str, float],
    n: int,
    seed: int,
    max_age_days: int = 3 * 365,
) -> SimulatedSummary:
    """Draw a day-granular summary from BG/NBD and Gamma-Gamma, one purchase round at a time.

    Rates are per week; ages are whole days from 0 (first purchase on the as-of date) to
    ``max_age_days``, and recency and age come out in weeks (days / 7). A purchase on the
    day of an earlier one merges with it, as purchase days do in SQL, and a purchase on the
    as-of date counts, so recency can equal age. After each purchase the customer drops
    out with their probability p. The value of each repeat purchase day is Gamma(p, nu)
    with nu ~ Gamma(q, gamma), rounded to cents in total.
    """
    rng = np.random.default_rng(seed)
    daily_rate = rng.gamma(bg_nbd["r"], 1 / bg_nbd["alpha"], n) / 7
    dropout = rng.beta(bg_nbd["a"], bg_nbd["b"], n)
    age_days = rng.integers(0, max_age_days + 1, n)
    clock = rng.random(n)  # the first purchase falls somewhere in day 0
    frequency = np.zeros(n, dtype=np.int64)
    last_day = np.zeros(n, dtype=np.int64)
    active = np.arange(n)
    while active.size:
        clock[active] += rng.exponential(1 / daily_rate[active])
        day = np.floor(clock[active]).astype(np.int64)
        inside = day <= age_days[active]
        active, day = active[inside], day[inside]
        new_day = day > last_day[active]
        frequency[active[new_day]] += 1
        last_day[active[new_day]] = day[new_day]
        active = active[rng.random(active.size) >= dropout[active]]
    spend_rate = rng.gamma(gamma_gamma["q"], 1 / gamma_gamma["gamma"], n)
    repeat_total = np.round(
        rng.gamma(gamma_gamma["p"] * np.maximum(frequency, 1), 1 / spend_rate), 2
    )
    monetary_value = np.where(frequency > 0, repeat_total / np.maximum(frequency, 1), 0.0)
    return SimulatedSummary(frequency.astype(float), last_day / 7, age_days / 7, monetary_value)
