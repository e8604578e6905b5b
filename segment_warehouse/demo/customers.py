"""The people, their purchase timelines and the CRM customer accounts of one chunk."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_warehouse.demo.columns import (
    _choice,
    _fill_template,
    _ids,
    _nulls_where,
    _pick,
    _ranks,
    _scramble,
    _styles,
    _timestamps,
)
from segment_warehouse.demo.identity import (
    _TRAP_COMPANY,
    _TRAP_FAMILY,
    _TRAP_NAMESAKE,
    _TRAP_NONE,
    NAME_TYPO_SHARE,
    PROBABILISTIC_TYPO_SHARE,
    _distinct_within_groups,
    _misspelt,
    _other_digit,
    _plan_identities,
)
from segment_warehouse.demo.personas import (
    _DUP_GUEST,
    _DUP_NONE,
    _DUP_PERSONAS,
    _DUP_PROBABILISTIC,
    _DUP_STORE,
    _EXISTING_PERSONAS,
    _P,
    _S_ADDRESSES,
    _S_CUSTOMERS,
    _S_IDENTITY,
    _S_PEOPLE,
    DUPLICATE_SHARE,
    EXISTING_SHARE,
    LABEL_SCHEMA,
    PERSONA_NAMES,
    PERSONAS,
    SECONDS_PER_DAY,
    _persona_array,
)
from segment_warehouse.demo.reference import (
    _ADDRESS_LINE2,
    _COMPANY_WORDS,
    _EMAIL_DOMAINS,
    _GENDER_SPELLINGS,
    _INDUSTRIES,
    COUNTRIES,
    _flatten,
)


class _CustomerTables:
    """People, identities, purchase timelines and the customers table (mixed into _Chunk)."""

    # -- people -----------------------------------------------------------------------

    def people(self) -> None:
        """Personas, duplicate identities and the attributes a person keeps across accounts."""
        rng = self.rng(_S_PEOPLE)
        n = self.n
        shares = _persona_array("share")
        persona = rng.choice(len(PERSONAS), size=n, p=shares / shares.sum())
        eligible = np.flatnonzero(np.isin(persona, _DUP_PERSONAS))
        n_dup = min(rng.binomial(n, DUPLICATE_SHARE), eligible.size, n // 3)
        primary = rng.choice(eligible, size=n_dup, replace=False)
        is_primary = np.zeros(n, dtype=bool)
        is_primary[primary] = True
        secondary = rng.choice(np.flatnonzero(~is_primary), size=n_dup, replace=False)
        persona[secondary] = persona[primary]
        dup_type = np.where(
            (persona[primary] == _P["store_only"]) | (rng.random(n_dup) < 0.5),
            _DUP_STORE,
            _DUP_GUEST,
        )
        # Identity planting (probabilistic duplicates, traps) draws from its own stream.
        irng = self.rng(_S_IDENTITY)
        taken = is_primary.copy()
        taken[secondary] = True
        plan = _plan_identities(irng, persona, taken)
        persona[plan.prob_secondary] = persona[plan.prob_primary]
        is_primary[plan.prob_primary] = True
        primary = np.concatenate([primary, plan.prob_primary])
        secondary = np.concatenate([secondary, plan.prob_secondary])
        dup_type = np.concatenate([dup_type, np.full(plan.prob_primary.size, _DUP_PROBABILISTIC)])
        self.trap, self.leader, self.trap_slot = plan.trap, plan.leader, plan.slot
        follower = plan.slot > 0
        self.persona = persona
        self.person = np.arange(n)
        self.person[secondary] = primary
        self.is_person = np.ones(n, dtype=bool)
        self.is_person[secondary] = False
        self.secondary_of = np.full(n, -1)
        self.secondary_of[primary] = secondary
        self.dup_kind = np.full(n, _DUP_NONE)  # set on primaries and secondaries
        self.dup_kind[primary] = dup_type
        self.dup_kind[secondary] = dup_type
        self.is_secondary = ~self.is_person

        def copy_to_secondary(values: np.ndarray) -> np.ndarray:
            values[secondary] = values[primary]
            return values

        def copy_to_followers(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
            """Trap members take the value of their group's first member."""
            values[mask] = values[self.leader[mask]]
            return values

        geo = self.geo
        self.country = copy_to_followers(
            copy_to_secondary(rng.choice(len(COUNTRIES), size=n, p=geo.weights)), follower
        )
        self.currency = geo.currency_of[self.country]
        self.sex = copy_to_secondary(rng.choice(3, size=n, p=[0.5, 0.48, 0.02]))
        name_sex = np.where(self.sex == 2, rng.integers(0, 2, n), self.sex)
        group = geo.name_group[self.country]
        _, first_offsets, first_sizes = geo.first_names
        bucket = group * 2 + name_sex
        self.first_name = copy_to_secondary(
            first_offsets[bucket] + (rng.random(n) * first_sizes[bucket]).astype(np.int64)
        )
        _, last_offsets, last_sizes = geo.last_names
        self.last_name = copy_to_secondary(
            last_offsets[group] + (rng.random(n) * last_sizes[group]).astype(np.int64)
        )
        _, city_offsets, city_sizes = geo.cities
        self.city = copy_to_followers(
            copy_to_secondary(
                city_offsets[self.country]
                + (rng.random(n) * city_sizes[self.country]).astype(np.int64)
            ),
            follower,
        )
        self.trap_names(irng, copy_to_followers)
        self.home_store = copy_to_secondary(rng.integers(0, geo.stores_per_country, n))
        self.is_b2b = self.is_person & (rng.random(n) < _persona_array("b2b_prob")[persona])
        self.is_b2b |= self.trap == _TRAP_COMPANY
        guest_draw = rng.random(n) < _persona_array("guest_prob")[persona]
        in_trap = self.trap != _TRAP_NONE
        self.is_guest = (self.is_person & guest_draw & ~self.is_b2b & ~is_primary & ~in_trap) | (
            self.is_secondary & (self.dup_kind == _DUP_GUEST)
        )
        typo_share = np.where(
            self.dup_kind == _DUP_PROBABILISTIC, PROBABILISTIC_TYPO_SHARE, NAME_TYPO_SHARE
        )
        self.name_typo = self.is_secondary & (irng.random(n) < typo_share)
        self.typo_in_first = irng.random(n) < 0.5
        card_draw = rng.random(n) < _persona_array("card_prob")[persona]
        self.person_has_card = self.is_person & card_draw & ~self.is_guest
        self.has_card = self.person_has_card | (self.is_secondary & (self.dup_kind == _DUP_STORE))
        self.people_rng = rng

    def timeline(self) -> None:
        """Each person's first and last purchase day and number of purchases."""
        rng = self.people_rng
        n, persona = self.n, self.persona
        is_primary = self.secondary_of >= 0
        last = self.cal.n_days - 1

        def bound(anchor: np.ndarray, offset: np.ndarray, first_day: np.ndarray) -> np.ndarray:
            base = np.select([anchor == "s", anchor == "e"], [0, last], default=first_day)
            return base + offset

        first_window = np.array([p.first for p in PERSONAS], dtype=object)[persona]
        last_window = np.array([p.last for p in PERSONAS], dtype=object)[persona]
        zero = np.zeros(n, dtype=np.int64)
        a_lo = bound(first_window[:, 0], first_window[:, 1].astype(np.int64), zero)
        a_hi = bound(first_window[:, 2], first_window[:, 3].astype(np.int64), zero)
        calendar = np.array([p.calendar for p in PERSONAS])[persona]
        first_day = np.zeros(n, dtype=np.int64)
        last_day = np.zeros(n, dtype=np.int64)
        for kind in ("online", "holiday", "store"):
            m = calendar == kind
            first_day[m] = self.cal.sample_days(rng, kind, a_lo[m], a_hi[m])
        # Existing customers (bought before the window) come back after a random wait.
        existing = np.isin(persona, _EXISTING_PERSONAS) & (rng.random(n) < EXISTING_SHARE)
        rate = np.maximum(_persona_array("orders")[:, 1], _persona_array("store")[:, 1])
        wait = rng.exponential(365.25 / np.maximum(rate[persona], 1.0), n).astype(np.int64)
        first_day = np.where(existing, np.clip(a_lo + wait, 0, np.maximum(a_hi, 0)), first_day)
        b_hi = np.clip(
            bound(last_window[:, 2], last_window[:, 3].astype(np.int64), first_day), first_day, last
        )
        b_lo = np.clip(
            bound(last_window[:, 0], last_window[:, 1].astype(np.int64), first_day), first_day, b_hi
        )
        for kind in ("online", "holiday", "store"):
            m = calendar == kind
            last_day[m] = self.cal.sample_days(rng, kind, b_lo[m], b_hi[m])
        # Active customers' last purchase is usually recent: days before the end are
        # exponential, so that activity does not thin out towards the end date.
        active = (b_hi == last) & (b_lo < b_hi) & _persona_array("force_last", bool)[persona]
        width = np.maximum(b_hi - b_lo, 1).astype(np.float64)
        scale = width / 3.0  # exponential truncated to the window, by inverse CDF
        back = -scale * np.log1p(-rng.random(n) * -np.expm1(-width / scale))
        last_day = np.where(active, np.clip(b_hi - back.astype(np.int64), b_lo, b_hi), last_day)
        self.first_day, self.last_day, self.calendar_kind = first_day, last_day, calendar

        # Purchases: a base count plus a Poisson count proportional to the active years.
        years = (last_day - first_day) / 365.25
        base, rate = _persona_array("orders").T
        n_orders = (base[persona] + rng.poisson(rate[persona] * years)).astype(np.int64)
        n_orders = np.where(persona == _P["new_customer"], np.minimum(n_orders, 3), n_orders)
        guest_dup = is_primary & np.isin(self.dup_kind, [_DUP_GUEST, _DUP_PROBABILISTIC])
        n_orders = np.where(guest_dup, np.maximum(n_orders, 2), n_orders)
        base, rate = _persona_array("store").T
        n_store = np.where(
            self.person_has_card, base[persona] + rng.poisson(rate[persona] * years), 0
        )
        store_dup = is_primary & (self.dup_kind == _DUP_STORE)
        n_store = np.where(store_dup & self.person_has_card, np.maximum(n_store, 2), n_store)
        n_store = np.where(store_dup & ~self.person_has_card, 1 + rng.poisson(1.5, n), n_store)
        self.n_orders = np.where(self.is_person, n_orders, 0).astype(np.int64)
        self.n_store = np.where(self.is_person, n_store, 0).astype(np.int64)
        self.guest_pick = 1 + (rng.random(n) * np.maximum(self.n_orders - 1, 1)).astype(np.int64)
        self.store_pick = 1 + (rng.random(n) * np.maximum(self.n_store - 1, 1)).astype(np.int64)
        self.preferred_channel = np.where(
            self.is_b2b,
            rng.choice(3, size=n, p=[0.5, 0.1, 0.4]),
            rng.choice(3, size=n, p=[0.55, 0.36, 0.09]),
        )

    # -- purchase events ----------------------------------------------------------------

    def events(self, counts: np.ndarray, kind: str) -> tuple[np.ndarray, ...]:
        """Purchase days of all persons: (person, rank, seconds) per event."""
        rng = self.people_rng
        person, rank = _ranks(counts)
        persona = self.persona[person]
        total = counts[person]
        days = np.empty(person.size, dtype=np.int64)
        first = rank == 0
        force_last = _persona_array("force_last", bool)[persona]
        if kind == "store":
            force_last &= persona == _P["store_only"]
        last = (rank == total - 1) & (total > 1) & force_last
        middle = ~first & ~last
        days[first] = self.first_day[person[first]]
        days[last] = self.last_day[person[last]]
        calendar = self.calendar_kind[person]
        if kind == "store":
            calendar = np.where(calendar == "holiday", "holiday", "store")
        for name in ("online", "holiday", "store"):
            m = middle & (calendar == name)
            days[m] = self.cal.sample_days(
                rng, name, self.first_day[person[m]], self.last_day[person[m]]
            )
        hours = "store" if kind == "store" else "online"
        return person, rank, self.cal.sample_seconds(rng, days, hours)

    def purchases(self) -> None:
        rng = self.people_rng
        n = self.n
        # Shop orders.
        person, rank, secs = self.events(self.n_orders, "orders")
        account = person.copy()
        # Guest duplicates and probabilistic ones take over some of their person's orders.
        to_guest = (
            np.isin(self.dup_kind[person], [_DUP_GUEST, _DUP_PROBABILISTIC])
            & ~self.is_secondary[person]
            & (rank >= 1)
            & ((rng.random(person.size) < 0.35) | (rank == self.guest_pick[person]))
        )
        account[to_guest] = self.secondary_of[person[to_guest]]
        channel = np.where(
            rng.random(person.size) < 0.7,
            self.preferred_channel[person],
            rng.choice(3, size=person.size, p=[0.55, 0.36, 0.09]),
        )
        channel = np.where(self.is_guest[account] & (channel == 2), 0, channel)
        order = np.argsort(secs, kind="stable")  # order keys increase with time
        self.o_person, self.o_account = person[order], account[order]
        self.o_secs, self.o_channel = secs[order], channel[order]
        # Store purchases of card holders (and of store duplicates).
        person, rank, secs = self.events(self.n_store, "store")
        account = person.copy()
        to_store_account = (self.dup_kind[person] == _DUP_STORE) & (
            ~self.person_has_card[person]
            | ((rank >= 1) & ((rng.random(person.size) < 0.35) | (rank == self.store_pick[person])))
        )
        account[to_store_account] = self.secondary_of[person[to_store_account]]
        self.s_person, self.s_account, self.s_secs = person, account, secs
        self.s_forced_card = to_store_account
        # Signups: registered accounts well before their first purchase, guest and till
        # accounts minutes before it, prospects anywhere.
        never = np.iinfo(np.int64).max
        first_secs = np.full(n, never, dtype=np.int64)
        np.minimum.at(first_secs, self.o_account, self.o_secs)
        np.minimum.at(first_secs, self.s_account, self.s_secs)
        earliest = self.cal.start_secs - 365 * SECONDS_PER_DAY
        gap_days = np.where(
            self.persona == _P["new_customer"], rng.uniform(1, 14, n), rng.uniform(1, 400, n)
        )
        registered = np.maximum(
            first_secs - (gap_days * SECONDS_PER_DAY).astype(np.int64), earliest
        )
        at_checkout = first_secs - rng.integers(60, 1800, n)
        anywhere = rng.integers(earliest, self.cal.end_secs, n)
        quick = self.is_guest | (self.is_secondary & (self.dup_kind == _DUP_STORE))
        signup = np.where(quick, at_checkout, registered)
        self.signup_secs = np.where(first_secs == never, anywhere, signup)

    # -- customers ------------------------------------------------------------------------

    def customer_ids(self) -> pa.Array:
        if not hasattr(self, "_customer_ids"):
            self._customer_ids = _ids("C", self.numbers, self.ctx.id_width)
        return self._customer_ids

    def labels(self) -> pa.Table:
        names = pa.array(PERSONA_NAMES, pa.string()).take(pa.array(self.persona))
        is_dup = self.dup_kind > 0
        return pa.table(
            {
                "customer_id": self.customer_ids(),
                "person_id": _ids("P", self.numbers[self.person], self.ctx.id_width),
                "persona": names,
                "is_vip": self.persona == _P["vip"],
                "is_discount_driven": self.persona == _P["discount_driven"],
                "is_churned": self.persona == _P["churned"],
                "is_holiday_shopper": self.persona == _P["holiday_shopper"],
                "is_duplicate_identity": is_dup,
            },
            schema=LABEL_SCHEMA,
        )

    def customers(self) -> pa.Table:
        rng = self.rng(_S_CUSTOMERS)
        irng = self.rng(_S_ADDRESSES)  # identity columns, so that the others keep their draws
        n, geo = self.n, self.geo
        person_number = self.numbers[self.person]
        first_names, _, _ = geo.first_names
        last_names, _, _ = geo.last_names
        first = _misspelt(irng, first_names, self.first_name, self.name_typo & self.typo_in_first)
        last = _misspelt(irng, last_names, self.last_name, self.name_typo & ~self.typo_in_first)
        in_trap = self.trap != _TRAP_NONE
        family = self.trap == _TRAP_FAMILY
        prob_pair = self.dup_kind == _DUP_PROBABILISTIC
        prob_secondary = self.is_secondary & prob_pair
        namesake_follower = (self.trap == _TRAP_NAMESAKE) & (self.trap_slot > 0)
        # Email: unique per person, messy case and whitespace, still valid after trim+lower.
        first_ascii = geo.first_names_ascii.take(pa.array(self.first_name))
        last_ascii = geo.last_names_ascii.take(pa.array(self.last_name))
        number_text = pc.cast(pa.array(person_number), pa.string())
        domain = rng.integers(0, len(_EMAIL_DOMAINS), n)
        clean_email = pc.binary_join_element_wise(
            first_ascii, ".", last_ascii, number_text, "@", _pick(_EMAIL_DOMAINS, domain), ""
        )
        # A probabilistic duplicate registered with another address of its own: initial,
        # last name and number in another order, at another domain.
        other_domain = (domain[self.person] + irng.integers(1, len(_EMAIL_DOMAINS), n)) % len(
            _EMAIL_DOMAINS
        )
        other_email = pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(first_ascii, 0, 1),
            last_ascii,
            ".",
            number_text,
            "@",
            _pick(_EMAIL_DOMAINS, other_domain),
            "",
        )
        clean_email = pc.if_else(pa.array(prob_secondary), other_email, clean_email)
        mess = rng.random(n)

        def messy(clean: pa.Array) -> pa.Array:
            return pc.if_else(
                pa.array(mess < 0.85),
                clean,
                pc.if_else(
                    pa.array(mess < 0.92),
                    pc.utf8_upper(clean),
                    pc.if_else(
                        pa.array(mess < 0.96),
                        pc.utf8_capitalize(clean),
                        pc.binary_join_element_wise(" ", clean, "  ", ""),
                    ),
                ),
            )

        email = messy(clean_email)
        guest_secondary = self.is_secondary & (self.dup_kind == _DUP_GUEST)
        # The guest account repeats its person's address in another spelling.
        person_index = pa.array(self.person)
        person_email = clean_email.take(person_index)
        primary_email = email.take(person_index)
        variants = [
            pc.utf8_upper(person_email),
            pc.binary_join_element_wise(" ", person_email, ""),
            pc.binary_join_element_wise(pc.utf8_capitalize(person_email), " ", ""),
        ]
        variant = pc.choose(pa.array(rng.integers(0, 3, n)), *variants)
        variant = pc.if_else(
            pc.equal(variant, primary_email),
            pc.binary_join_element_wise(" ", pc.utf8_upper(person_email), " ", ""),
            variant,
        )
        email = pc.if_else(pa.array(guest_secondary), variant, email)
        no_email = (self.persona == _P["store_only"]) & (rng.random(n) < 0.3) | (
            self.is_secondary & (self.dup_kind == _DUP_STORE)
        )
        email = _nulls_where(email, no_email & ~guest_secondary & ~in_trap)
        # Phone: unique digits per person, many formats; duplicates keep the digits, and a
        # household shares one number, each member spelling it another way.
        phone_owner = np.where(family, self.leader, self.person)
        national = pc.cast(
            pa.array(
                1_000_000_000 + _scramble(self.numbers[phone_owner], 9_000_000_000, 1_234_567)
            ),
            pa.string(),
        )
        prefix = geo.phone_prefixes.take(pa.array(self.country))
        part = [pc.utf8_slice_codeunits(national, a, b) for a, b in ((0, 3), (3, 6), (6, 10))]
        formats = [
            pc.binary_join_element_wise(prefix, national, " "),
            pc.binary_join_element_wise(
                prefix, part[0], pc.binary_join_element_wise(part[1], part[2], ""), " "
            ),
            pc.binary_join_element_wise(prefix, part[0], part[1], part[2], "-"),
            pc.binary_join_element_wise(prefix, national, ""),
            pc.binary_join_element_wise(
                prefix, pc.binary_join_element_wise("(", part[0], ")", ""), part[1], part[2], " "
            ),
            pc.binary_join_element_wise(" ", prefix, " ", part[0], " ", part[1], part[2], " ", ""),
        ]
        style = rng.integers(0, len(formats), n)
        store_secondary = self.is_secondary & (self.dup_kind == _DUP_STORE)
        shift = rng.integers(1, len(formats), n)
        style = np.where(store_secondary, (style[self.person] + shift) % len(formats), style)
        style = np.where(family, (style[self.leader] + self.trap_slot) % len(formats), style)
        phone = pc.choose(pa.array(style), *formats)
        no_phone = np.where(self.is_guest, rng.random(n) < 0.7, rng.random(n) < 0.35)
        needs_phone = (self.dup_kind == _DUP_STORE) & (self.is_person | store_secondary)
        phone = _nulls_where(phone, (no_phone & ~needs_phone & ~in_trap) | prob_secondary)
        # Birth date (a person's, on every account), gender, address. Members of a household
        # and namesakes are born on different days.
        age_days = rng.integers(18 * 365, 85 * 365, n)[self.person]
        if family.any():
            age_days[family] = _distinct_within_groups(age_days[family], self.leader[family])
        span = 67 * 365
        leader_age = age_days[self.leader[namesake_follower]] - 18 * 365
        age_days[namesake_follower] = (
            18 * 365 + (leader_age + irng.integers(1, span, leader_age.size)) % span
        )
        birth = (np.datetime64(self.config.end_date, "D") - age_days).astype(str)
        known = in_trap | prob_pair  # what traps and probabilistic matches are about
        birth_date = _nulls_where(
            pa.array(birth), (self.is_guest | (rng.random(n) < 0.25)) & ~known
        )
        gender_values, gender_offsets, gender_sizes = _flatten(_GENDER_SPELLINGS)
        gender_index = gender_offsets[self.sex] + (rng.random(n) * gender_sizes[self.sex]).astype(
            np.int64
        )
        gender = _nulls_where(
            gender_values.take(pa.array(gender_index)),
            rng.random(n) < np.where(self.is_guest, 0.6, 0.1),
        )
        spellings, spelling_offsets, spelling_sizes = geo.spellings
        country = spellings.take(
            pa.array(
                spelling_offsets[self.country]
                + (rng.random(n) * spelling_sizes[self.country]).astype(np.int64)
            )
        )
        cities, _, _ = geo.cities
        region = _nulls_where(geo.regions.take(pa.array(self.city)), rng.random(n) < 0.1)
        city = _nulls_where(cities.take(pa.array(self.city)), (rng.random(n) < 0.05) & ~known)
        postcode = pa.nulls(n, pa.string())
        for city_index, template in enumerate(geo.postcode_templates):
            rows = np.flatnonzero(self.city == city_index)
            if rows.size:
                mask = np.zeros(n, dtype=bool)
                mask[rows] = True
                postcode = pc.replace_with_mask(
                    postcode, pa.array(mask), _fill_template(rng, template, rows.size)
                )
        # A person's postcode on every account (a household's too); a namesake lives
        # elsewhere in the same city.
        home = np.where(family, self.leader, self.person)
        postcode = postcode.take(pa.array(home))
        if namesake_follower.any():
            moved = _other_digit(postcode.take(pa.array(self.leader[namesake_follower])), irng)
            postcode = pc.replace_with_mask(postcode, pa.array(namesake_follower), moved)
        postcode = _nulls_where(postcode, self.is_guest & (rng.random(n) < 0.5))
        address_line1, address_line2 = self.addresses(irng, home, namesake_follower)
        locales, locale_offsets, locale_sizes = geo.locales
        locale = locales.take(
            pa.array(
                locale_offsets[self.country]
                + (rng.random(n) * locale_sizes[self.country]).astype(np.int64)
            )
        )
        locale = _nulls_where(locale, rng.random(n) < 0.05)
        signed_up_at = _timestamps(self.signup_secs, _styles(rng, n, date_only=0.05))
        card = _nulls_where(
            _ids("LC", _scramble(self.numbers, 10_000_000_000, 987_654_321), 10), ~self.has_card
        )
        industry = _choice(rng, _INDUSTRIES, n)
        word = _choice(rng, _COMPANY_WORDS, n)
        company = pc.binary_join_element_wise(
            last, word, geo.company_suffixes.take(pa.array(self.country)), " "
        )
        size = np.clip(rng.lognormal(3.0, 1.5, n), 1, 20_000).astype(np.int64)
        colleague = self.trap == _TRAP_COMPANY
        if colleague.any():
            # Colleagues work for their group's first member's company and share its
            # general address, info@<company domain>.
            leader = pa.array(self.leader)
            company = pc.if_else(pa.array(colleague), company.take(leader), company)
            industry = pc.if_else(pa.array(colleague), industry.take(leader), industry)
            size = np.where(colleague, size[self.leader], size)
            info = pc.binary_join_element_wise(
                "info@",
                last_ascii.take(leader),
                "-",
                pc.utf8_lower(word).take(leader),
                "-",
                pc.cast(pa.array(self.numbers[self.leader]), pa.string()),
                ".example.com",
                "",
            )
            email = pc.if_else(pa.array(colleague), messy(info), email)
        return pa.table(
            {
                "customer_id": self.customer_ids(),
                "email": email,
                "phone": phone,
                "first_name": first,
                "last_name": last,
                "birth_date": birth_date,
                "gender": gender,
                "country": country,
                "region": region,
                "city": city,
                "postcode": postcode,
                "address_line1": address_line1,
                "address_line2": address_line2,
                "locale": locale,
                "signed_up_at": signed_up_at,
                "is_guest": _pick(("false", "true"), self.is_guest.astype(np.int64)),
                "loyalty_card_id": card,
                "company_name": _nulls_where(company, ~self.is_b2b),
                "company_industry": _nulls_where(industry, ~self.is_b2b),
                "company_size": _nulls_where(pc.cast(pa.array(size), pa.string()), ~self.is_b2b),
            }
        )

    def addresses(
        self, rng: np.random.Generator, home: np.ndarray, namesake_follower: np.ndarray
    ) -> tuple[pa.Array, pa.Array]:
        """Return address lines 1 and 2 of every account.

        Street and house number, sometimes a second line: the person's on every account
        (the household's for a family), now and then spelt differently on a second account.
        """
        n, geo = self.n, self.geo
        group = geo.name_group[self.country]
        streets, street_offsets, street_sizes = geo.streets
        street = (rng.random(n) * street_sizes[group]).astype(np.int64)
        house = rng.integers(1, 120, n)
        letter = rng.random(n) < 0.05
        line2_kind = rng.choice(
            len(_ADDRESS_LINE2) + 1, size=n, p=[0.88, 0.04, 0.03, 0.02, 0.01, 0.02]
        )
        line2_number = rng.integers(1, 25, n)
        last_names, last_offsets, last_sizes = geo.last_names
        care_of = last_offsets[group] + (rng.random(n) * last_sizes[group]).astype(np.int64)
        variant = rng.choice(4, size=n, p=[0.45, 0.3, 0.15, 0.1])
        missing = self.is_guest & self.is_person & (rng.random(n) < 0.3)
        other_street = (street + rng.integers(1, street_sizes[group])) % street_sizes[group]
        street, house, letter = street[home], house[home], letter[home]
        line2_kind, line2_number, care_of = line2_kind[home], line2_number[home], care_of[home]
        # A namesake lives in another street of the same city.
        street = np.where(namesake_follower, other_street[self.leader], street)
        street = pa.array(street_offsets[group] + street)
        number = pc.cast(pa.array(house), pa.string())
        number = pc.if_else(pa.array(letter), pc.binary_join_element_wise(number, "a", ""), number)
        number_first = pa.array(geo.number_first[group])

        def line(names: pa.Array) -> pa.Array:
            name = names.take(street)
            return pc.if_else(
                number_first,
                pc.binary_join_element_wise(number, name, " "),
                pc.binary_join_element_wise(name, number, " "),
            )

        full, short = line(streets), line(geo.streets_short)
        upper = pc.utf8_upper(full)
        short = pc.if_else(pc.equal(short, full), upper, short)
        spaced = pc.replace_substring(full, " ", "  ", max_replacements=1)
        # Second accounts: abbreviated, upper case or spaced; probabilistic duplicates are
        # never abbreviated (they are hard enough to find).
        variant = np.where(self.is_secondary, variant, 0)
        variant = np.where((self.dup_kind == _DUP_PROBABILISTIC) & (variant == 1), 0, variant)
        line1 = pc.choose(pa.array(variant), full, short, upper, spaced)
        numbered = pc.cast(pa.array(line2_number), pa.string())
        care_of_name = last_names.take(pa.array(care_of))
        line2 = pc.choose(
            pa.array(line2_kind),
            pa.nulls(n, pa.string()),
            *(
                pc.binary_join_element_wise(
                    prefix, care_of_name if prefix == "c/o" else numbered, " "
                )
                for prefix in _ADDRESS_LINE2
            ),
        )
        return _nulls_where(line1, missing), _nulls_where(line2, missing)
