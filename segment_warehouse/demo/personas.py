"""The contract's tables and layout, and the personas planted in the demo data."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

# ---------------------------------------------------------------------------------------
# Contract and layout
# ---------------------------------------------------------------------------------------

#: Customers per chunk. A constant (never derived from the machine) so that the data only
#: depends on the arguments.
CHUNK_SIZE = 200_000
#: Size of the per-chunk number space of generated keys (orders, sessions, ...).
ID_SPACE = 100_000_000
#: Products in the catalogue (fixed, independent of the number of customers).
PRODUCT_COUNT = 1_200

#: Raw tables and their columns, exactly as in the sources YAML files.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": (
        "product_id", "product_name", "category", "subcategory", "brand", "list_price",
    ),
    "customers": (
        "customer_id", "email", "phone", "first_name", "last_name", "birth_date", "gender",
        "country", "region", "city", "postcode", "address_line1", "address_line2", "locale",
        "signed_up_at", "is_guest",
        "loyalty_card_id", "company_name", "company_industry", "company_size",
    ),
    "orders": (
        "order_id", "customer_id", "ordered_at", "amount", "currency", "channel",
        "discount_amount", "coupon_code", "updated_at",
    ),
    "order_lines": (
        "order_line_id", "order_id", "product_id", "quantity", "unit_price", "discount_amount",
    ),
    "returns": (
        "return_id", "order_id", "returned_at", "refund_amount", "currency", "order_line_id",
        "reason",
    ),
    "store_transactions": (
        "transaction_id", "transacted_at", "amount", "currency", "store_id", "loyalty_card_id",
        "customer_id", "discount_amount", "coupon_code",
    ),
    "web_sessions": (
        "session_id", "started_at", "anonymous_id", "customer_id", "device_type",
        "operating_system", "browser", "traffic_source", "page_views", "order_id",
    ),
    "consents": (
        "consent_id", "customer_id", "channel", "purpose", "status", "recorded_at",
        "collection_point",
    ),
    "feedback": (
        "feedback_id", "customer_id", "order_id", "submitted_at", "feedback_type", "nps_score",
        "rating", "comment", "resolved_at",
    ),
    "suppressions": (
        "suppression_id", "customer_id", "email", "phone", "channel", "reason", "recorded_at",
    ),
}  # fmt: skip
TABLES: tuple[str, ...] = tuple(TABLE_COLUMNS)
PRIMARY_KEYS: dict[str, str] = {name: columns[0] for name, columns in TABLE_COLUMNS.items()}
FORMATS = ("parquet", "csv")

LABEL_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("person_id", pa.string()),
        ("persona", pa.string()),
        ("is_vip", pa.bool_()),
        ("is_discount_driven", pa.bool_()),
        ("is_churned", pa.bool_()),
        ("is_holiday_shopper", pa.bool_()),
        ("is_duplicate_identity", pa.bool_()),
    ]
)
#: Consent channels and purposes of the demo data: the vars consent.channels and
#: consent.purposes of dbt_project.yml.
CONSENT_CHANNELS = ("email", "sms", "push", "post", "phone", "paid_ads")
CONSENT_PURPOSES = ("marketing", "profiling", "personalisation")
#: One row per customer account, channel and purpose with a consent event: the decision
#: in force at the end date, failing closed (see docs/privacy.md).
CONSENT_TRUTH_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("channel", pa.string()),
        ("purpose", pa.string()),
        ("is_granted", pa.bool_()),
        ("decision", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
    ]
)
BAD_ROW_SCHEMA = pa.schema(
    [("table_name", pa.string()), ("primary_key", pa.string()), ("reason", pa.string())]
)
#: One row per source record of the raw tables: the real person behind it and what was
#: planted on it (see docs/demo-data.md).
IDENTITY_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_customer_id", pa.string()),
        ("person_id", pa.string()),
        ("planted", pa.string()),
        ("trap", pa.string()),
    ]
)

SECONDS_PER_DAY = 86_400
#: Churned customers bought nothing during this many days before the end date.
CHURN_QUIET_DAYS = 215

# Random streams inside a chunk: independent, so skipping a table changes nothing else.
(_S_PEOPLE, _S_LINES, _S_STORE, _S_SESSIONS, _S_CONSENTS, _S_FEEDBACK, _S_RETURNS,
 _S_CUSTOMERS, _S_IDENTITY, _S_ADDRESSES, _S_CARD_ONLY, _S_SUPPRESSIONS) = range(12)  # fmt: skip
_S_PLANT = 100  # + table index

# ---------------------------------------------------------------------------------------
# Personas
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Persona:
    """Behaviour of one planted persona; windows are (anchor, days) pairs.

    Anchors: ``s`` = start date, ``e`` = end date, ``a`` = the person's first purchase day.
    """

    name: str
    share: float
    orders: tuple[int, float]  # shop orders: base + Poisson(per year x active years)
    store: tuple[int, float]  # store transactions of card holders, same form
    card_prob: float
    first: tuple[str, int, str, int]  # window of the first purchase day
    last: tuple[str, int, str, int]  # window of the last purchase day
    force_last: bool  # the last event is pinned to the ``last`` day
    calendar: str  # online, holiday or store
    coupon_prob: float
    sale_prob: float
    return_prob: float
    value_shift: float  # shift towards expensive (>0) or cheap (<0) products
    lines_lambda: float
    store_factor: float
    store_discount_prob: float
    feedback_prob: float
    satisfaction: float  # mean NPS answer
    b2b_prob: float
    guest_prob: float


PERSONAS: tuple[_Persona, ...] = (
    _Persona("vip", 0.02, (6, 16.0), (2, 5.0), 0.40, ("s", 0, "s", 200), ("e", -20, "e", 0),
             True, "online", 0.12, 0.06, 0.08, 1.1, 3.5, 2.2, 0.10, 0.09, 9.0, 0.05, 0.0),
    _Persona("discount_driven", 0.08, (2, 3.5), (1, 1.0), 0.20, ("s", 0, "e", -300),
             ("e", -180, "e", 0), True, "online", 0.92, 0.35, 0.30, -0.8, 2.5, 0.8, 0.60,
             0.09, 6.5, 0.03, 0.0),
    _Persona("holiday_shopper", 0.06, (1, 2.0), (1, 1.0), 0.15, ("s", 0, "e", -300),
             ("e", 0, "e", 0), False, "holiday", 0.30, 0.15, 0.08, 0.3, 2.8, 1.2, 0.20, 0.08,
             7.8, 0.0, 0.0),
    _Persona("churned", 0.15, (3, 5.0), (1, 1.5), 0.25, ("s", 0, "e", -400),
             ("a", 120, "e", -CHURN_QUIET_DAYS), True, "online", 0.12, 0.10, 0.06, -0.2, 2.5,
             1.0, 0.15, 0.08, 6.0, 0.05, 0.0),
    _Persona("one_time_buyer", 0.14, (1, 0.0), (0, 0.0), 0.0, ("s", 0, "e", -90),
             ("s", 0, "e", -90), False, "online", 0.25, 0.12, 0.05, -0.4, 1.5, 1.0, 0.10, 0.07,
             7.0, 0.0, 0.6),
    _Persona("regular", 0.32, (2, 2.1), (1, 2.0), 0.0, ("s", 0, "e", -120), ("e", -180, "e", 0),
             True, "online", 0.10, 0.10, 0.04, -0.3, 2.5, 1.0, 0.15, 0.08, 7.8, 0.045, 0.0),
    _Persona("omnichannel", 0.10, (2, 2.0), (2, 3.0), 1.0, ("s", 0, "e", -120),
             ("e", -180, "e", 0), True, "online", 0.10, 0.10, 0.04, -0.3, 2.5, 1.0, 0.15, 0.08,
             7.8, 0.03, 0.0),
    _Persona("store_only", 0.07, (0, 0.0), (2, 4.0), 1.0, ("s", 0, "e", -120),
             ("e", -120, "e", 0), True, "store", 0.0, 0.0, 0.0, 0.0, 0.0, 1.1, 0.20, 0.0, 7.5,
             0.0, 0.0),
    _Persona("new_customer", 0.02, (1, 4.0), (0, 0.0), 0.0, ("e", -29, "e", 0),
             ("a", 0, "e", 0), False, "online", 0.40, 0.10, 0.04, -0.3, 2.5, 1.0, 0.10, 0.08,
             8.0, 0.02, 0.1),
    _Persona("prospect", 0.04, (0, 0.0), (0, 0.0), 0.0, ("s", 0, "e", 0), ("s", 0, "e", 0),
             False, "online", 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 7.0, 0.0, 0.0),
)  # fmt: skip
PERSONA_NAMES: tuple[str, ...] = tuple(p.name for p in PERSONAS)
_P = {name: i for i, name in enumerate(PERSONA_NAMES)}
#: Share of persons who have a second customer account.
DUPLICATE_SHARE = 0.02
_DUP_PERSONAS = [
    _P[n]
    for n in (
        "vip", "discount_driven", "holiday_shopper", "churned", "regular", "omnichannel",
        "store_only",
    )
]  # fmt: skip
_DUP_NONE, _DUP_GUEST, _DUP_STORE, _DUP_PROBABILISTIC = 0, 1, 2, 3
#: Share of long-standing customers (first purchase in the first two months of the window).
EXISTING_SHARE = 0.4
_EXISTING_PERSONAS = [
    _P[n] for n in ("vip", "discount_driven", "churned", "regular", "omnichannel", "store_only")
]


def _persona_array(attr: str, dtype: type = np.float64) -> np.ndarray:
    return np.array([getattr(p, attr) for p in PERSONAS], dtype=dtype)


# ---------------------------------------------------------------------------------------
