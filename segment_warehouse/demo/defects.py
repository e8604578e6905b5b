"""Contract-breaking rows planted on purpose, each with exactly one defect and a reason code."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segment_warehouse.demo.columns import _choice, _ids, _money
from segment_warehouse.demo.personas import BAD_ROW_SCHEMA, PRIMARY_KEYS

# ---------------------------------------------------------------------------------------
# Planted defects
# ---------------------------------------------------------------------------------------

_NOT_A_TIMESTAMP = ("2023-02-30", "not a date", "31/12/2023", "2024-13-01 10:00:00")
_FUTURE = ("2099-01-01 00:00:00", "2099-12-31", "2087-05-04T10:00:00+01:00")
_ANCIENT = ("1900-01-01", "1900-01-01 00:00:00", "1970-01-01 00:00:00", "1989-12-31")
_NOT_A_DECIMAL = ("12.5.3", "abc", "1,234.50", "EUR 12")
_ABSURD = ("99999999", "99999999.00")
_UNKNOWN_CURRENCY = ("XYZ", "ABC", "QQQ")


@dataclass(frozen=True)
class _Defect:
    """One way to break a row: ``values`` is a tuple of literals or a generator name."""

    reason: str
    column: str | None
    values: tuple[str, ...] | str
    weight: float
    needs_value: bool = False  # only rows where the column is filled
    needs_table: str | None = None  # only when this (parent) table is written


def _timestamp_defects(column: str, weight: float = 1.0) -> list[_Defect]:
    return [
        _Defect("invalid_value", column, _NOT_A_TIMESTAMP, 0.08 * weight),
        _Defect("future_timestamp", column, _FUTURE, 0.08 * weight),
        _Defect("timestamp_out_of_range", column, _ANCIENT, 0.08 * weight),
    ]


def _missing(*columns: str, weight: float) -> list[_Defect]:
    return [_Defect("missing_value", c, "null", weight) for c in columns]


_DUPLICATE = _Defect("duplicate_key", None, "copy", 0.12)

DEFECTS: dict[str, list[_Defect]] = {
    "products": [
        *_missing("product_id", weight=0.3),
        _Defect("invalid_value", "list_price", ("n/a", "abc", "12,99"), 0.3),
        _DUPLICATE,
    ],
    "customers": [
        *_missing("customer_id", weight=0.12),
        _Defect("invalid_value", "is_guest", ("maybe", "unknown", "n/a"), 0.10),
        *_timestamp_defects("signed_up_at"),
        _Defect("malformed_email", "email", "malformed_email", 0.30, needs_value=True),
        _DUPLICATE,
    ],
    "orders": [
        *_missing("order_id", "customer_id", "ordered_at", "amount", weight=0.035),
        *_timestamp_defects("ordered_at"),
        _Defect("invalid_value", "amount", _NOT_A_DECIMAL, 0.06),
        _Defect("negative_amount", "amount", "negative", 0.10),
        _Defect("absurd_amount", "amount", _ABSURD, 0.08),
        _Defect("unknown_currency", "currency", _UNKNOWN_CURRENCY, 0.10),
        _Defect(
            "unknown_customer", "customer_id", "unknown_customer", 0.12, needs_table="customers"
        ),
        _DUPLICATE,
    ],
    "order_lines": [
        *_missing("order_line_id", "order_id", "product_id", "quantity", "unit_price", weight=0.03),
        _Defect("invalid_value", "quantity", ("two", "x", "3 pcs"), 0.06),
        _Defect("invalid_value", "unit_price", _NOT_A_DECIMAL, 0.06),
        _Defect("negative_amount", "unit_price", "negative", 0.10),
        _Defect("non_positive_quantity", "quantity", ("0", "-1", "-2"), 0.15),
        _Defect("unknown_order", "order_id", "unknown_order", 0.12, needs_table="orders"),
        _Defect("unknown_product", "product_id", "unknown_product", 0.12, needs_table="products"),
        _DUPLICATE,
    ],
    "returns": [
        *_missing("return_id", "order_id", "returned_at", "refund_amount", weight=0.04),
        *_timestamp_defects("returned_at"),
        _Defect("invalid_value", "refund_amount", _NOT_A_DECIMAL, 0.06),
        _Defect("negative_amount", "refund_amount", "negative", 0.12),
        _Defect("unknown_currency", "currency", _UNKNOWN_CURRENCY, 0.08, needs_value=True),
        _Defect("unknown_order", "order_id", "unknown_order", 0.12, needs_table="orders"),
        _DUPLICATE,
    ],
    "store_transactions": [
        *_missing("transaction_id", "transacted_at", "amount", weight=0.04),
        *_timestamp_defects("transacted_at"),
        _Defect("invalid_value", "amount", _NOT_A_DECIMAL, 0.06),
        _Defect("negative_amount", "amount", "negative", 0.10),
        _Defect("absurd_amount", "amount", _ABSURD, 0.08),
        _Defect("unknown_currency", "currency", _UNKNOWN_CURRENCY, 0.08, needs_value=True),
        _Defect(
            "unknown_customer",
            "customer_id",
            "unknown_customer",
            0.10,
            needs_value=True,
            needs_table="customers",
        ),
        _DUPLICATE,
    ],
    "web_sessions": [
        *_missing("session_id", "started_at", weight=0.06),
        *_timestamp_defects("started_at", weight=1.25),
        _Defect("invalid_value", "page_views", ("many", "lots", "n/a"), 0.10),
        _Defect(
            "unknown_customer",
            "customer_id",
            "unknown_customer",
            0.12,
            needs_value=True,
            needs_table="customers",
        ),
        _DUPLICATE,
    ],
    "consents": [
        *_missing("consent_id", "customer_id", "channel", "status", "recorded_at", weight=0.04),
        _Defect("invalid_value", "status", ("pending", "opt-in", "unknown", "maybe"), 0.15),
        _Defect("invalid_value", "channel", ("fax", "whatsapp", "carrier pigeon"), 0.08),
        _Defect("invalid_value", "purpose", ("research", "resale", "analytics"), 0.06),
        *_timestamp_defects("recorded_at"),
        _Defect(
            "unknown_customer", "customer_id", "unknown_customer", 0.12, needs_table="customers"
        ),
        _DUPLICATE,
    ],
    "suppressions": [
        *_missing("suppression_id", "reason", "recorded_at", weight=0.05),
        _Defect("invalid_value", "reason", ("bounced", "unsub", "n/a"), 0.15),
        *_timestamp_defects("recorded_at"),
        _Defect(
            "unknown_customer", "customer_id", "unknown_customer", 0.12, needs_table="customers"
        ),
        _DUPLICATE,
    ],
    "feedback": [
        *_missing("feedback_id", "customer_id", "submitted_at", weight=0.05),
        *_timestamp_defects("submitted_at"),
        _Defect("invalid_value", "nps_score", ("ten", "n/a"), 0.06),
        _Defect("out_of_range", "nps_score", ("11", "12", "-1", "100"), 0.10),
        _Defect("out_of_range", "rating", ("0", "6", "10"), 0.08),
        _Defect(
            "unknown_customer", "customer_id", "unknown_customer", 0.12, needs_table="customers"
        ),
        _DUPLICATE,
    ],
}


def _defect_values(rng: np.random.Generator, defect: _Defect, current: pa.Array) -> pa.Array:
    """Return replacement values for the rows in ``current`` (the present values)."""
    n = len(current)
    if isinstance(defect.values, tuple):
        return _choice(rng, defect.values, n)
    if defect.values == "null":
        return pa.nulls(n, pa.string())
    if defect.values == "negative":
        return pc.binary_join_element_wise("-", _money(rng.integers(100, 50_000, n)), "")
    if defect.values == "unknown_customer":  # real ids have 8 digits, these 9
        return _ids("C", 900_000_000 + rng.integers(0, 99_999_999, n), 9)
    if defect.values == "unknown_order":  # real ids have 10 digits, these 11
        return _ids("O", 99_000_000_000 + rng.integers(0, 999_999_999, n), 11)
    if defect.values == "unknown_product":  # real ids have 5 digits, these 6
        return _ids("P", 900_000 + rng.integers(0, 99_999, n), 6)
    if defect.values == "malformed_email":
        clean = pc.utf8_trim_whitespace(current)
        kind = rng.integers(0, 3, n)
        no_domain = pc.replace_substring_regex(clean, r"@.*$", "@")
        spelled_at = pc.replace_substring(clean, "@", " at ")
        no_dot = pc.replace_substring_regex(clean, r"@.*$", "@localhost")
        return pc.if_else(
            pa.array(kind == 0),
            no_domain,
            pc.if_else(pa.array(kind == 1), spelled_at, no_dot),
        )
    raise ValueError(f"unknown defect generator {defect.values!r}")


def _plant(
    name: str,
    table: pa.Table,
    rng: np.random.Generator,
    share: float,
    eligible: np.ndarray,
    written: frozenset[str],
) -> tuple[pa.Table, np.ndarray, pa.Table]:
    """Plant about ``share`` x rows single defects on eligible rows of one table.

    Most defects replace a value in place. Two kinds add rows instead, so that no child row
    loses its parent: ``duplicate_key`` appends an exact copy of a clean row, and a missing
    primary key appends a copy of a clean row with the key emptied.

    Returns the table, a mask of the original rows that carry a defect or were copied (their
    children must stay clean), and the ground-truth rows.
    """
    n = table.num_rows
    touched = np.zeros(n, dtype=bool)
    empty = pa.table({f.name: pa.array([], f.type) for f in BAD_ROW_SCHEMA}, BAD_ROW_SCHEMA)
    if share <= 0 or n == 0:
        return table, touched, empty
    defects = [d for d in DEFECTS[name] if d.needs_table is None or d.needs_table in written]
    weights = np.array([d.weight for d in defects])
    counts = rng.multinomial(rng.binomial(n, share), weights / weights.sum())
    available = eligible.copy()
    key = PRIMARY_KEYS[name]
    key_index = table.schema.get_field_index(key)
    keys = table.column(key).combine_chunks()
    edits: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
    added: list[pa.Table] = []
    found: list[tuple[str, pa.Array]] = []
    for defect, count in zip(defects, counts, strict=True):
        if count == 0:
            continue
        pool_mask = available
        if defect.needs_value:
            column = table.column(defect.column).combine_chunks()
            pool_mask = available & np.asarray(column.is_valid())
        pool = np.flatnonzero(pool_mask)
        rows = np.sort(rng.choice(pool, size=min(int(count), pool.size), replace=False))
        if rows.size == 0:
            continue
        available[rows] = False
        touched[rows] = True
        row_index = pa.array(rows)
        missing_key = defect.column == key and defect.reason == "missing_value"
        if defect.column is None:
            added.append(table.take(row_index))
            found.append((defect.reason, keys.take(row_index)))
        elif missing_key:
            copy = table.take(row_index)
            added.append(copy.set_column(key_index, key, pa.nulls(rows.size, pa.string())))
            found.append((defect.reason, pa.nulls(rows.size, pa.string())))
        else:
            current = table.column(defect.column).take(row_index).combine_chunks()
            edits.setdefault(defect.column, []).append((rows, _defect_values(rng, defect, current)))
            found.append((defect.reason, keys.take(row_index)))
    for column_name, changes in edits.items():
        rows = np.concatenate([r for r, _ in changes])
        values = pa.concat_arrays([v for _, v in changes])
        order = np.argsort(rows, kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        column = table.column(column_name).combine_chunks()
        replaced = pc.replace_with_mask(column, pa.array(mask), values.take(pa.array(order)))
        table = table.set_column(table.schema.get_field_index(column_name), column_name, replaced)
    if added:
        table = pa.concat_tables([table, *added])
    if not found:
        return table, touched, empty
    bad = pa.table(
        {
            "table_name": pa.array([name] * sum(len(k) for _, k in found), pa.string()),
            "primary_key": pa.concat_arrays([k for _, k in found]),
            "reason": pa.array([r for r, k in found for _ in range(len(k))], pa.string()),
        },
        schema=BAD_ROW_SCHEMA,
    )
    return table, touched, bad
