"""Arrow column helpers of the demo generator (all vectorised)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_warehouse.demo.personas import SECONDS_PER_DAY

# ---------------------------------------------------------------------------------------
# Arrow string helpers (all vectorised)
# ---------------------------------------------------------------------------------------

_TWO_DIGITS = pa.array([f"{i:02d}" for i in range(100)], pa.string())
_NULL = pa.scalar(None, pa.string())
_STYLE_OFFSET = np.array([0, 3600, 7200, 0, 0], dtype=np.int64)
_STYLE_SEPARATOR = pa.array([" ", "T", "T", "T", ""], pa.string())
_STYLE_SUFFIX = pa.array(["", "+01:00", "+02:00", "Z", ""], pa.string())
_DATE_ONLY = 4


@lru_cache(maxsize=1)
def _times_of_day() -> pa.Array:
    seconds = np.arange(SECONDS_PER_DAY)
    parts = [
        _TWO_DIGITS.take(pa.array(v)) for v in (seconds // 3600, seconds // 60 % 60, seconds % 60)
    ]
    return pc.binary_join_element_wise(*parts, ":")


def _rng(seed: int, chunk: int, stream: int) -> np.random.Generator:
    sequence = np.random.SeedSequence(seed, spawn_key=(chunk, stream))
    return np.random.Generator(np.random.PCG64(sequence))


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    digits = pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string())
    return pc.binary_join_element_wise(prefix, pc.utf8_lpad(digits, width, "0"), "")


def _money(cents: np.ndarray) -> pa.Array:
    """Format integer cents as plain decimals ('1234.50', '-3.05')."""
    cents = np.asarray(cents, dtype=np.int64)
    magnitude = np.abs(cents)
    text = pc.binary_join_element_wise(
        pc.cast(pa.array(magnitude // 100), pa.string()),
        _TWO_DIGITS.take(pa.array(magnitude % 100)),
        ".",
    )
    negative = cents < 0
    if negative.any():
        text = pc.if_else(pa.array(negative), pc.binary_join_element_wise("-", text, ""), text)
    return text


def _small_ints(values: np.ndarray) -> pa.Array:
    """Format small non-negative integers through a lookup table."""
    values = np.asarray(values, dtype=np.int64)
    if values.size == 0:
        return pa.array([], pa.string())
    table = pc.cast(pa.array(np.arange(int(values.max()) + 1)), pa.string())
    return table.take(pa.array(values))


def _pick(options: Sequence[str | None], index: np.ndarray) -> pa.Array:
    return pa.array(list(options), pa.string()).take(pa.array(np.asarray(index, np.int64)))


def _choice(rng: np.random.Generator, options: Sequence[str], n: int) -> pa.Array:
    return _pick(options, rng.integers(0, len(options), n))


def _nulls_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), _NULL, values)


def _scatter(n: int, positions: np.ndarray, values: pa.Array, default: str | None) -> pa.Array:
    """Return an array of ``default`` with ``values`` at ``positions``."""
    index = np.zeros(n, dtype=np.int64)
    index[positions] = np.arange(1, positions.size + 1)
    return pa.concat_arrays([pa.array([default], pa.string()), values]).take(pa.array(index))


def _timestamps(secs: np.ndarray, style: np.ndarray) -> pa.Array:
    """Format UTC epoch seconds in the given styles.

    Styles: 0 naive UTC ('YYYY-MM-DD HH:MM:SS'), 1 '+01:00', 2 '+02:00', 3 'Z', 4 date only.
    An offset style shows the local wall time, so the instant is unchanged.
    """
    if secs.size == 0:
        return pa.array([], pa.string())
    style = np.asarray(style, dtype=np.int64)
    local = np.asarray(secs, dtype=np.int64) + _STYLE_OFFSET[style]
    day = local // SECONDS_PER_DAY
    first = int(day.min())
    dates = pa.array(np.arange(first, int(day.max()) + 1).astype("datetime64[D]").astype(str))
    times = _times_of_day().take(pa.array(local - day * SECONDS_PER_DAY))
    date_only = style == _DATE_ONLY
    if date_only.any():
        times = pc.if_else(pa.array(date_only), pa.scalar("", pa.string()), times)
    style_index = pa.array(style)
    return pc.binary_join_element_wise(
        dates.take(pa.array(day - first)),
        _STYLE_SEPARATOR.take(style_index),
        times,
        _STYLE_SUFFIX.take(style_index),
        "",
    )


def _styles(rng: np.random.Generator, n: int, date_only: float = 0.0) -> np.ndarray:
    """Timestamp styles: mostly naive UTC, ~15 % with a UTC offset or Z."""
    return rng.choice(5, size=n, p=[0.85 - date_only, 0.06, 0.05, 0.04, date_only])


def _ranks(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For events grouped by owner: the owner index and the rank within the owner."""
    owner = np.repeat(np.arange(counts.size), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(owner.size) - starts[owner]


def _fill_template(rng: np.random.Generator, template: str, n: int) -> pa.Array:
    """Strings from a template: '#' a random digit, '@' a random upper-case letter."""
    chars = np.empty((n, len(template)), dtype="S1")
    for i, ch in enumerate(template):
        if ch == "#":
            chars[:, i] = np.frombuffer(b"0123456789", "S1")[rng.integers(0, 10, n)]
        elif ch == "@":
            chars[:, i] = np.frombuffer(b"ABDEFGHJLNPQRSTUWXYZ", "S1")[rng.integers(0, 20, n)]
        else:
            chars[:, i] = ch.encode()
    return pc.cast(pa.array(chars.view(f"S{len(template)}").ravel(), pa.binary()), pa.string())


def _scramble(numbers: np.ndarray, modulus: int, offset: int) -> np.ndarray:
    """Map numbers through a bijection on [0, modulus): unique yet random-looking."""
    return (np.asarray(numbers, dtype=np.int64) * 7_919_813 + offset) % modulus
