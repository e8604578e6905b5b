"""Identity-resolution ground truth: planted duplicates, look-alike traps, card-only shoppers.

A source record is what the identity graph links: a customer account (source ``shop``),
a loyalty card seen at the till (``pos``) or a web device's anonymous id (``web``). The
truth (``ground_truth/identity.parquet``) gives every record of the raw tables the real
person behind it, what was planted on it, and the trap it belongs to. The choices here are
drawn from random streams of their own (people, address columns, card-only shoppers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_warehouse.demo.columns import _ids, _nulls_where, _pick, _scramble
from segment_warehouse.demo.personas import (
    _DUP_GUEST,
    _DUP_STORE,
    _P,
    CHUNK_SIZE,
    IDENTITY_SCHEMA,
)

#: Share of persons with a second registered account (another email, no phone, same birth
#: date and address) that only probabilistic matching can link.
PROBABILISTIC_SHARE = 0.004
_PROBABILISTIC_PERSONAS = [
    _P[n]
    for n in ("vip", "discount_driven", "holiday_shopper", "churned", "regular", "omnichannel")
]
#: Share of guest and store duplicates whose name is misspelt (email or phone still equal),
#: and of probabilistic duplicates.
NAME_TYPO_SHARE = 0.25
PROBABILISTIC_TYPO_SHARE = 0.5
#: Look-alike persons that must not be merged: share of persons and group size range.
_TRAP_NONE, _TRAP_FAMILY, _TRAP_COMPANY, _TRAP_NAMESAKE = 0, 1, 2, 3
TRAP_NAMES = (None, "family_phone", "company_email", "namesake")
TRAPS: dict[int, tuple[float, int, int]] = {
    _TRAP_FAMILY: (0.002, 2, 4),  # a household: one phone, one address, one last name
    _TRAP_COMPANY: (0.002, 7, 12),  # colleagues sharing info@<company>
    _TRAP_NAMESAKE: (0.002, 2, 2),  # same first and last name in the same city
}
#: Chunks of at least this many accounts plant at least one group of every trap.
_MIN_ACCOUNTS_PER_TRAP = 1_000
#: Persons known only by their loyalty card at the till, per customer account.
CARD_ONLY_SHARE = 0.005
#: Card numbers of card-only persons start here (account cards are below it).
CARD_ONLY_BASE = 100_000_000
#: First names of one household differ by more than this many edits.
_FAMILY_NAME_DISTANCE = 2

_PLANTED_SHOP = (None, "guest_variant", "store_account", "probabilistic_only")


@dataclass
class _IdentityPlan:
    """Which accounts carry a probabilistic duplicate and which form traps."""

    prob_primary: np.ndarray
    prob_secondary: np.ndarray
    trap: np.ndarray  # per account: _TRAP_*
    leader: np.ndarray  # per account: first member of its trap group (itself otherwise)
    slot: np.ndarray  # per account: position in its trap group (0 for the leader)


def _plan_identities(
    rng: np.random.Generator, persona: np.ndarray, taken: np.ndarray
) -> _IdentityPlan:
    """Choose probabilistic duplicates and trap groups among accounts not ``taken``."""
    n = persona.size
    free = ~taken
    candidates = np.flatnonzero(free & np.isin(persona, _PROBABILISTIC_PERSONAS))
    n_prob = min(rng.binomial(n, PROBABILISTIC_SHARE), candidates.size, int(free.sum()) // 3)
    prob_primary = rng.choice(candidates, size=n_prob, replace=False)
    free[prob_primary] = False
    prob_secondary = rng.choice(np.flatnonzero(free), size=n_prob, replace=False)
    free[prob_secondary] = False
    kinds, sizes = [], []
    for kind, (share, low, high) in TRAPS.items():
        groups = rng.binomial(n, share / ((low + high) / 2))
        if n >= _MIN_ACCOUNTS_PER_TRAP:
            groups = max(groups, 1)
        kinds.append(np.full(groups, kind))
        sizes.append(rng.integers(low, high + 1, groups))
    kind_of_group, size_of_group = np.concatenate(kinds), np.concatenate(sizes)
    pool = rng.permutation(np.flatnonzero(free))
    keep = np.cumsum(size_of_group) <= pool.size  # tiny chunks plant what fits
    kind_of_group, size_of_group = kind_of_group[keep], size_of_group[keep]
    members = pool[: size_of_group.sum()]
    group = np.repeat(np.arange(size_of_group.size), size_of_group)
    start = np.cumsum(size_of_group) - size_of_group
    trap = np.zeros(n, dtype=np.int64)
    leader = np.arange(n)
    slot = np.zeros(n, dtype=np.int64)
    trap[members] = kind_of_group[group]
    leader[members] = members[start][group]
    slot[members] = np.arange(members.size) - start[group]
    return _IdentityPlan(prob_primary, prob_secondary, trap, leader, slot)


# ---------------------------------------------------------------------------------------
# Name tables: misspellings and first names far apart
# ---------------------------------------------------------------------------------------

_SUBSTITUTES = dict(zip("aeiouymnszcktdbp", "eaiuoinmzskcdtpb", strict=True))


def _typos(name: str) -> list[str]:
    """Return one-edit misspellings of a name (dropped, swapped or replaced letter).

    The first letter stays: blocking rules often use it.
    """
    found = set()
    for i in range(1, len(name)):
        found.add(name[:i] + name[i + 1 :])
        if i + 1 < len(name) and name[i] != name[i + 1] and (name[i] + name[i + 1]).isalpha():
            found.add(name[:i] + name[i + 1] + name[i] + name[i + 2 :])
        lower = name[i].lower()
        if lower in _SUBSTITUTES:
            swapped = _SUBSTITUTES[lower]
            found.add(
                name[:i] + (swapped.upper() if name[i].isupper() else swapped) + name[i + 1 :]
            )
    return sorted(v for v in found if v != name and v == v.strip() and "  " not in v)


@lru_cache(maxsize=4)
def _typo_table(names: tuple[str, ...]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Misspellings of every name: values, offset and count per name index."""
    variants = [_typos(name) for name in names]
    sizes = np.array([len(v) for v in variants], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    return pa.array([v for vs in variants for v in vs], pa.string()), offsets, sizes


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@lru_cache(maxsize=4)
def _far_first_names(
    names: tuple[str, ...], offsets: tuple[int, ...], sizes: tuple[int, ...]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return first names pairwise more than _FAMILY_NAME_DISTANCE edits apart, per group.

    A name group is two buckets (female, male) of ``names``; the result is flattened
    indexes into ``names``, then group offsets and sizes.
    """
    groups = []
    for g in range(len(offsets) // 2):
        chosen: list[int] = []
        for bucket in (2 * g, 2 * g + 1):
            for index in range(offsets[bucket], offsets[bucket] + sizes[bucket]):
                name = names[index].lower()
                if all(
                    _edit_distance(name, names[c].lower()) > _FAMILY_NAME_DISTANCE for c in chosen
                ):
                    chosen.append(index)
        groups.append(chosen)
    if min(len(g) for g in groups) < TRAPS[_TRAP_FAMILY][2]:
        raise ValueError("a name group has too few distinct first names for a household")
    group_sizes = np.array([len(g) for g in groups], dtype=np.int64)
    group_offsets = np.concatenate([[0], np.cumsum(group_sizes)[:-1]]).astype(np.int64)
    return np.array([i for g in groups for i in g], np.int64), group_offsets, group_sizes


def _misspelt(
    rng: np.random.Generator, names: pa.Array, index: np.ndarray, mask: np.ndarray
) -> pa.Array:
    """Names (``names`` taken at ``index``) with a typo where ``mask`` is set."""
    values = names.take(pa.array(index))
    if not mask.any():
        return values
    typos, offsets, sizes = _typo_table(tuple(names.to_pylist()))
    pick = offsets[index] + (rng.random(index.size) * np.maximum(sizes[index], 1)).astype(np.int64)
    usable = mask & (sizes[index] > 0)
    pick = np.where(usable, pick, 0)
    return pc.if_else(pa.array(usable), typos.take(pa.array(pick)), values)


def _distinct_within_groups(values: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Make values of one group pairwise different: sorted within the group, plus the rank."""
    order = np.lexsort((values, group))
    sorted_group = group[order]
    start = np.flatnonzero(np.r_[True, sorted_group[1:] != sorted_group[:-1]])
    rank = np.arange(order.size) - np.repeat(start, np.diff(np.r_[start, order.size]))
    result = np.empty_like(values)
    result[order] = values[order] + rank
    return result


def _other_digit(values: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Return the strings with their last digit replaced by another digit."""
    if len(values) == 0:
        return values
    raw = np.array(values.to_pylist(), dtype=bytes)
    chars = raw.view("S1").reshape(raw.size, -1).copy()
    is_digit = (chars >= b"0") & (chars <= b"9")
    last = chars.shape[1] - 1 - np.argmax(is_digit[:, ::-1], axis=1)
    digit = chars[np.arange(raw.size), last].view(np.uint8) - ord("0")
    new = (digit + rng.integers(1, 10, raw.size)) % 10 + ord("0")
    chars[np.arange(raw.size), last] = new.astype(np.uint8).view("S1")
    return pa.array(chars.view(f"S{chars.shape[1]}").ravel().astype(str).tolist(), pa.string())


# ---------------------------------------------------------------------------------------
# The truth table of one chunk
# ---------------------------------------------------------------------------------------


class _IdentityTables:
    """Trap members' names and the identity truth of a chunk (mixed into _Chunk)."""

    def trap_names(
        self, rng: np.random.Generator, copy_to_followers: Callable[..., np.ndarray]
    ) -> None:
        """Set the names of trap members.

        Namesakes share both names and the sex; a household shares its last name and has
        first names far apart; colleagues of one company all have different first names.
        """
        trap, slot = self.trap, self.trap_slot
        follower = slot > 0
        names, offsets, sizes = self.geo.first_names
        name_sex = np.repeat(np.arange(sizes.size) % 2, sizes)
        group = self.geo.name_group[self.country]
        draw = rng.integers(0, 1 << 30, self.n)[self.leader]  # one draw per trap group
        far, far_offsets, far_sizes = _far_first_names(
            tuple(names.to_pylist()), tuple(offsets.tolist()), tuple(sizes.tolist())
        )
        family, company = trap == _TRAP_FAMILY, trap == _TRAP_COMPANY
        household_name = far[far_offsets[group] + (draw + slot) % far_sizes[group]]
        colleague_name = offsets[2 * group] + (draw + slot) % (
            sizes[2 * group] + sizes[2 * group + 1]
        )
        first = np.where(family, household_name, np.where(company, colleague_name, self.first_name))
        namesake = follower & (trap == _TRAP_NAMESAKE)
        self.first_name = copy_to_followers(first, namesake)
        self.last_name = copy_to_followers(self.last_name, namesake | (follower & family))
        self.sex = copy_to_followers(
            np.where(family | company, name_sex[first], self.sex), namesake
        )

    def person_ids(self, accounts: np.ndarray) -> pa.Array:
        """Person id of the person behind each account (as in customer_labels)."""
        return _ids("P", self.numbers[self.person[accounts]], self.ctx.id_width)

    def shop_truth(self) -> pa.Table:
        kind = np.where(self.is_secondary, self.dup_kind, 0)
        kind = np.where(
            self.name_typo & np.isin(kind, [_DUP_GUEST, _DUP_STORE]), len(_PLANTED_SHOP), kind
        )
        return _truth(
            "shop",
            self.customer_ids(),
            self.person_ids(np.arange(self.n)),
            _pick((*_PLANTED_SHOP, "name_typo"), kind),
            _pick(TRAP_NAMES, self.trap),
        )

    def pos_truth(self, card_number: np.ndarray, shown: np.ndarray) -> pa.Table:
        """Cards shown at the till: account cards and those of card-only persons."""
        numbers = np.unique(card_number[shown])
        card_only = numbers >= CARD_ONLY_BASE
        account = np.where(card_only, 0, numbers - self.first_number)
        person = pc.if_else(pa.array(card_only), _ids("K", numbers, 10), self.person_ids(account))
        return _truth(
            "pos",
            _card_ids(numbers),
            person,
            _nulls_where(_pick(("card_only",), np.zeros(numbers.size, np.int64)), ~card_only),
            pa.nulls(numbers.size, pa.string()),
        )

    def web_truth(
        self,
        owner: np.ndarray,
        device: np.ndarray,
        secs: np.ndarray,
        logged_in: np.ndarray,
        visitor_numbers: np.ndarray,
    ) -> pa.Table:
        """Return the web records: devices of accounts, then anonymous visitors' devices.

        ``owner`` (account) and ``device`` (type) describe each identified session; every
        anonymous visitor's session has a device of its own, and a person of its own.
        """
        never = np.iinfo(np.int64).max
        code = owner * 4 + device  # dense: no sorting needed
        first_seen = np.full(self.n * 4, never, dtype=np.int64)
        np.minimum.at(first_seen, code, secs)
        first_login = np.full(self.n * 4, never, dtype=np.int64)
        np.minimum.at(first_login, code[logged_in], secs[logged_in])
        codes = np.flatnonzero(first_seen < never)
        first_seen, first_login = first_seen[codes], first_login[codes]
        planted = np.select([first_login == never, first_seen < first_login], [2, 3], default=0)
        owned = _web_number(self.numbers[codes // 4] * 4 + codes % 4)
        visitors = _web_number(visitor_numbers)
        return _truth(
            "web",
            pa.concat_arrays([_ids("ck_", owned, 12), _ids("ck_", visitors, 12)]),
            pa.concat_arrays([self.person_ids(codes // 4), _ids("V", visitors, 12)]),
            _pick(
                (None, "anonymous_visitor", "never_logged_in", "anonymous_then_login"),
                np.concatenate([planted, np.ones(visitors.size, np.int64)]),
            ),
            pa.nulls(codes.size + visitors.size, pa.string()),
        )


def _card_ids(numbers: np.ndarray) -> pa.Array:
    """Loyalty card ids of card numbers (account numbers or card-only numbers)."""
    return _ids("LC", _scramble(numbers, 10**10, 987_654_321), 10)


def _web_number(device_number: np.ndarray) -> np.ndarray:
    """Return the number in a device's anonymous id."""
    return _scramble(device_number, 10**12, 31_337)


def _truth(
    source: str, ids: pa.Array, person: pa.Array, planted: pa.Array, trap: pa.Array
) -> pa.Table:
    return pa.table(
        {
            "source": pa.repeat(pa.scalar(source, pa.string()), len(ids)),
            "source_customer_id": ids,
            "person_id": person,
            "planted": planted,
            "trap": trap,
        },
        schema=IDENTITY_SCHEMA,
    )


def _card_only_count(rng: np.random.Generator, n: int) -> int:
    """Card-only persons of a chunk of ``n`` accounts."""
    count = rng.binomial(n, CARD_ONLY_SHARE)
    if n >= _MIN_ACCOUNTS_PER_TRAP:
        count = max(count, 1)
    return min(count, CHUNK_SIZE)
