"""Generate realistic, deterministic raw demo data for the segment warehouse.

The generator writes every raw table of the data contract in
``models/staging/*/_*__sources.yml`` (exactly those columns, in that order, all values as
text) to ``<out>/raw/<table>.parquet`` or ``.csv``, and the ground truth the models never
read to ``<out>/ground_truth/``:

* ``customer_labels.parquet``: the planted persona of every customer account and the
  person behind it (duplicate identities share a ``person_id``).
* ``bad_rows.parquet``: every contract-breaking row planted on purpose, with its table,
  primary key and reason code. Each planted row has exactly one defect and clean parents.

Customers are generated in fixed-size chunks (:data:`CHUNK_SIZE`), each from its own
random stream derived from ``(seed, chunk index, stream)``; everything inside a chunk is
vectorised numpy/pyarrow. Chunks are independent, so they can be built in parallel threads
and streamed to the output files in order: same arguments, same bytes, bounded memory.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

#: Raw tables and their columns, exactly as in the sources YAML files.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": (
        "product_id", "product_name", "category", "subcategory", "brand", "list_price",
    ),
    "customers": (
        "customer_id", "email", "phone", "first_name", "last_name", "birth_date", "gender",
        "country", "region", "city", "postcode", "locale", "signed_up_at", "is_guest",
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
BAD_ROW_SCHEMA = pa.schema(
    [("table_name", pa.string()), ("primary_key", pa.string()), ("reason", pa.string())]
)

SECONDS_PER_DAY = 86_400
#: Churned customers bought nothing during this many days before the end date.
CHURN_QUIET_DAYS = 215

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
_DUP_NONE, _DUP_GUEST, _DUP_STORE = 0, 1, 2
#: Share of long-standing customers (first purchase in the first two months of the window).
EXISTING_SHARE = 0.4
_EXISTING_PERSONAS = [
    _P[n] for n in ("vip", "discount_driven", "churned", "regular", "omnichannel", "store_only")
]


def _persona_array(attr: str, dtype: type = np.float64) -> np.ndarray:
    return np.array([getattr(p, attr) for p in PERSONAS], dtype=dtype)


# ---------------------------------------------------------------------------------------
# Reference data: countries, names, products
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    currency: str
    phone_prefix: str
    names: str
    locales: tuple[str, ...]
    company_suffix: str
    cities: tuple[tuple[str, str, str], ...]  # region, city, postcode template (# digit, @ letter)


COUNTRIES: tuple[_Country, ...] = (
    _Country("DE", 0.33, "EUR", "+49", "de", ("de-DE", "de-DE", "de", "de_DE", "en-GB"), "GmbH",
             (("Berlin", "Berlin", "10###"), ("Bayern", "München", "80###"),
              ("Hamburg", "Hamburg", "20###"), ("Nordrhein-Westfalen", "Köln", "50###"),
              ("Hessen", "Frankfurt am Main", "60###"), ("Sachsen", "Leipzig", "04###"))),
    _Country("AT", 0.08, "EUR", "+43", "de", ("de-AT", "de_AT", "de"), "GmbH",
             (("Wien", "Wien", "1###"), ("Steiermark", "Graz", "8###"),
              ("Oberösterreich", "Linz", "4###"), ("Salzburg", "Salzburg", "5###"))),
    _Country("CH", 0.06, "CHF", "+41", "de", ("de-CH", "fr-CH", "de", "it-CH"), "AG",
             (("Zürich", "Zürich", "80##"), ("Bern", "Bern", "30##"),
              ("Genève", "Genève", "12##"), ("Basel-Stadt", "Basel", "40##"))),
    _Country("FR", 0.08, "EUR", "+33", "fr", ("fr", "fr-FR", "fr_FR"), "SARL",
             (("Île-de-France", "Paris", "75###"), ("Auvergne-Rhône-Alpes", "Lyon", "69###"),
              ("Provence-Alpes-Côte d'Azur", "Marseille", "13###"),
              ("Occitanie", "Toulouse", "31###"))),
    _Country("NL", 0.07, "EUR", "+31", "nl", ("nl-NL", "nl", "nl_NL", "en-GB"), "B.V.",
             (("Noord-Holland", "Amsterdam", "10## @@"), ("Zuid-Holland", "Rotterdam", "30## @@"),
              ("Utrecht", "Utrecht", "35## @@"), ("Noord-Brabant", "Eindhoven", "56## @@"))),
    _Country("BE", 0.03, "EUR", "+32", "nl", ("nl-BE", "fr-BE", "fr", "nl"), "BV",
             (("Brussels", "Brussels", "10##"), ("Antwerp", "Antwerp", "20##"),
              ("East Flanders", "Ghent", "90##"), ("Liège", "Liège", "40##"))),
    _Country("GB", 0.12, "GBP", "+44", "en", ("en-GB", "en_GB", "en"), "Ltd",
             (("England", "London", "SW1 #@@"), ("England", "Manchester", "M1 #@@"),
              ("Scotland", "Edinburgh", "EH1 #@@"), ("England", "Birmingham", "B1 #@@"),
              ("Wales", "Cardiff", "CF1 #@@"))),
    _Country("US", 0.05, "USD", "+1", "en", ("en-US", "en", "en_US"), "Inc.",
             (("New York", "New York", "100##"), ("California", "Los Angeles", "900##"),
              ("Illinois", "Chicago", "606##"), ("Texas", "Austin", "787##"))),
    _Country("SE", 0.04, "SEK", "+46", "nordic", ("sv-SE", "sv", "en-GB"), "AB",
             (("Stockholm", "Stockholm", "11# ##"), ("Västra Götaland", "Göteborg", "41# ##"),
              ("Skåne", "Malmö", "21# ##"))),
    _Country("DK", 0.03, "DKK", "+45", "nordic", ("da-DK", "da"), "ApS",
             (("Hovedstaden", "København", "1###"), ("Midtjylland", "Aarhus", "8###"),
              ("Syddanmark", "Odense", "5###"))),
    _Country("NO", 0.02, "NOK", "+47", "nordic", ("nb-NO", "no", "nb"), "AS",
             (("Oslo", "Oslo", "0###"), ("Vestland", "Bergen", "5###"),
              ("Trøndelag", "Trondheim", "7###"))),
    _Country("PL", 0.04, "PLN", "+48", "pl", ("pl-PL", "pl"), "Sp. z o.o.",
             (("Mazowieckie", "Warszawa", "0#-###"), ("Małopolskie", "Kraków", "3#-###"),
              ("Dolnośląskie", "Wrocław", "5#-###"))),
    _Country("ES", 0.02, "EUR", "+34", "es", ("es-ES", "es"), "S.L.",
             (("Madrid", "Madrid", "28###"), ("Cataluña", "Barcelona", "08###"))),
    _Country("IT", 0.02, "EUR", "+39", "it", ("it-IT", "it"), "S.r.l.",
             (("Lazio", "Roma", "00###"), ("Lombardia", "Milano", "20###"))),
    _Country("IE", 0.01, "EUR", "+353", "en", ("en-IE", "en-GB", "en"), "Ltd",
             (("Leinster", "Dublin", "D0# @###"), ("Munster", "Cork", "T12 @###"))),
)  # fmt: skip

_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    # group: (female first names, male first names, last names)
    "de": (
        ("Anna", "Lena", "Laura", "Julia", "Sarah", "Lisa", "Katharina", "Sophie", "Marie",
         "Hannah", "Sabine", "Petra", "Claudia", "Jana"),
        ("Lukas", "Jonas", "Leon", "Felix", "Maximilian", "Paul", "Tobias", "Michael",
         "Thomas", "Stefan", "Andreas", "Jürgen", "Matthias", "Florian"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schulz", "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf",
         "Schröder", "Neumann", "Zimmermann", "Huber", "Gruber", "Keller"),
    ),
    "en": (
        ("Emma", "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophia", "Grace", "Charlotte",
         "Jessica", "Megan", "Chloe"),
        ("Oliver", "George", "Harry", "Jack", "Jacob", "Noah", "Charlie", "James", "William",
         "Daniel", "Ryan", "Liam"),
        ("Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson",
         "Johnson", "Roberts", "Walker", "Wright", "Robinson", "Thompson", "O'Brien", "Murphy",
         "Miller", "Kelly"),
    ),
    "fr": (
        ("Camille", "Léa", "Manon", "Chloé", "Inès", "Jade", "Louise", "Julie", "Élodie",
         "Céline"),
        ("Lucas", "Hugo", "Louis", "Gabriel", "Arthur", "Jules", "Nathan", "Théo", "Antoine",
         "Nicolas", "Julien", "Mathieu"),
        ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand",
         "Leroy", "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Fournier"),
    ),
    "nl": (
        ("Sanne", "Lotte", "Fleur", "Anouk", "Lisa", "Eva", "Femke", "Noor", "Julia", "Sophie"),
        ("Daan", "Sem", "Lucas", "Jesse", "Bram", "Thijs", "Ruben", "Lars", "Jeroen", "Pieter",
         "Stijn", "Niels"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Janssens",
         "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Peeters", "Maes", "Claes"),
    ),
    "nordic": (
        ("Emma", "Maja", "Alice", "Ella", "Ingrid", "Sofie", "Freja", "Ida", "Astrid", "Nora",
         "Karin", "Linnea"),
        ("Lars", "Erik", "Anders", "Oscar", "Magnus", "Mikkel", "Jonas", "Henrik", "Johan",
         "Nils", "Sven"),
        ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Hansen",
         "Jensen", "Nielsen", "Pedersen", "Olsen", "Johansen", "Berg", "Lindqvist"),
    ),
    "pl": (
        ("Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Zofia", "Zuzanna",
         "Aleksandra", "Magdalena"),
        ("Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Jakub", "Kacper", "Michał",
         "Marcin", "Łukasz"),
        ("Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski",
         "Zieliński", "Szymański", "Woźniak"),
    ),
    "es": (
        ("Lucía", "María", "Paula", "Sofía", "Carmen", "Laura", "Marta", "Elena"),
        ("Hugo", "Martín", "Pablo", "Alejandro", "Javier", "Daniel", "Carlos", "Diego"),
        ("García", "Rodríguez", "González", "Fernández", "López", "Martínez", "Sánchez",
         "Pérez"),
    ),
    "it": (
        ("Giulia", "Sofia", "Aurora", "Alice", "Chiara", "Francesca", "Martina", "Sara"),
        ("Leonardo", "Francesco", "Alessandro", "Lorenzo", "Matteo", "Marco", "Luca", "Andrea"),
        ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci"),
    ),
}  # fmt: skip

_EMAIL_FOLD = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "ê": "e", "á": "a",
     "í": "i", "ó": "o", "ú": "u", "ñ": "n", "ł": "l", "ś": "s", "ć": "c", "ż": "z", "ź": "z",
     "ą": "a", "ę": "e", "ń": "n", "ç": "c", "ø": "o", "å": "a", "æ": "ae"}
)  # fmt: skip
_EMAIL_DOMAINS = (
    "example.com",
    "example.org",
    "example.net",
    "mail.example.com",
    "post.example.net",
    "web.example.org",
    "inbox.example.com",
)
_GENDER_SPELLINGS = (
    ("female", "female", "female", "f", "F", "Female"),
    ("male", "male", "male", "m", "M", "Male"),
    ("diverse", "d", "Diverse"),
)
_INDUSTRIES = (
    "retail",
    "manufacturing",
    "hospitality",
    "healthcare",
    "education",
    "professional services",
    "construction",
    "technology",
    "logistics",
    "public sector",
)
_COMPANY_WORDS = (
    "Handel",
    "Trading",
    "Solutions",
    "Group",
    "Services",
    "Consulting",
    "Design",
    "Logistik",
    "Partners",
    "Studio",
)

_CHANNELS = ("web", "app", "phone")
_CHANNEL_SPELLINGS = (
    ("web", "web", "web", "web", "Web", "WEB", "Web "),
    ("app", "app", "app", "App", "APP"),
    ("phone", "phone", "phone", "Phone", "PHONE"),
)
_COUPONS = (
    "WELCOME10",
    "SAVE15",
    "SPRING20",
    "SUMMER15",
    "NEWSLETTER10",
    "FREESHIP",
    "LOYAL10",
    "COMEBACK20",
    "FLASH25",
    "APP5",
)
_HOLIDAY_COUPONS = ("BLACKFRIDAY20", "CYBER25", "XMAS15", "VALENTINE10", "MUM15")
_STORE_COUPONS = ("STORE10", "INSTORE5", "LOYALTY15", "BIRTHDAY20")
_RETURN_REASONS = (
    "too small",
    "too large",
    "damaged on arrival",
    "not as described",
    "changed my mind",
    "arrived too late",
    "wrong item sent",
    "better price elsewhere",
)
_COMMENTS = (
    ("Great quality, fast delivery.", "Love it!", "Exactly as described.",
     "Will order again.", "Super service, thanks!"),
    ("OK for the price.", "Delivery took a while.", "Fine, nothing special.",
     "Packaging could be better."),
    ("Item arrived damaged.", "Still waiting for my refund.", "Wrong size sent.",
     "Customer service never answered.", "Quality is poor.", "Parcel was lost."),
)  # fmt: skip
_TRAFFIC_SOURCES = ("organic", "paid_search", "email", "social", "direct", "referral", "affiliate")
_TRAFFIC_WEIGHTS = np.array([0.30, 0.20, 0.12, 0.12, 0.16, 0.06, 0.04])
_TRAFFIC_WEIGHTS_DEALS = np.array([0.12, 0.15, 0.33, 0.12, 0.08, 0.05, 0.15])

_CATEGORIES: tuple[tuple[str, float, float, tuple[str, ...], tuple[str, ...]], ...] = (
    # name, weight, median list price (EUR), subcategories, brands
    ("Fashion", 0.20, 30.0, ("Tops", "Trousers", "Dresses", "Outerwear", "Knitwear"),
     ("Nordlicht", "Urban Fox", "Maison Lune", "Kestrel", "Bluebell", "Ostwind")),
    ("Shoes", 0.10, 60.0, ("Sneakers", "Boots", "Sandals", "Loafers"),
     ("Stride", "Trailhead", "Velora", "Kestrel", "Pacer")),
    ("Beauty", 0.10, 15.0, ("Skincare", "Makeup", "Fragrance", "Haircare"),
     ("Lumière", "Pure Botanics", "Glowhaus", "Selva")),
    ("Home", 0.12, 25.0, ("Decor", "Kitchen", "Bedding", "Lighting"),
     ("Hygge Home", "Casa Verde", "Tidewater", "Lindholm", "Ferro")),
    ("Electronics", 0.08, 70.0, ("Audio", "Accessories", "Smart Home", "Wearables"),
     ("Voltic", "Sonara", "Pixelwerk", "Nordtech")),
    ("Sports", 0.09, 35.0, ("Fitness", "Outdoor", "Cycling", "Running"),
     ("Summit", "Peakform", "Velocita", "Trailhead")),
    ("Toys", 0.08, 18.0, ("Games", "Puzzles", "Plush", "Building Sets"),
     ("Kleine Welt", "Playbox", "Wonderkit", "Bricko")),
    ("Books", 0.08, 12.0, ("Fiction", "Non-fiction", "Children", "Cookbooks"),
     ("Paper Lantern", "Inkwell", "Northbound Press")),
    ("Garden", 0.07, 30.0, ("Tools", "Plants", "Furniture", "Grills"),
     ("Greenfield", "Blumenhof", "Terra", "Ferro")),
    ("Jewellery", 0.08, 50.0, ("Rings", "Necklaces", "Watches", "Earrings"),
     ("Aurelia", "Silverline", "Tempus", "Maison Lune")),
)  # fmt: skip


@lru_cache(maxsize=1)
def _read_currency_rates() -> dict[str, float]:
    table = pacsv.read_csv(SEEDS_DIR / "currency_rates.csv")
    return dict(
        zip(
            table.column("currency_code").to_pylist(),
            (float(v) for v in table.column("units_per_eur").to_pylist()),
            strict=True,
        )
    )


@lru_cache(maxsize=1)
def _read_country_aliases() -> dict[str, tuple[str, ...]]:
    convert = pacsv.ConvertOptions(column_types={"country_alias": pa.string()})
    table = pacsv.read_csv(SEEDS_DIR / "country_codes.csv", convert_options=convert)
    aliases: dict[str, list[str]] = {}
    for alias, code in zip(
        table.column("country_alias").to_pylist(),
        table.column("country_code").to_pylist(),
        strict=True,
    ):
        aliases.setdefault(code, []).append(alias)
    return {code: tuple(values) for code, values in aliases.items()}


def _country_spellings(aliases: Sequence[str]) -> list[str]:
    """Mixed spellings of one country, repeated by how often they should occur."""
    spellings: list[str] = []
    for alias in aliases:
        if len(alias) == 2:
            spellings += [alias.upper()] * 12 + [f" {alias} ", alias]
        elif len(alias) == 3 and alias.isalpha():
            spellings += [alias.upper()] * 2 + [alias]
        else:
            spellings += [alias.title()] * 3 + [alias.upper(), alias]
    return spellings


def _flatten(groups: Sequence[Sequence[str]]) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """Concatenate groups of strings; return values, group offsets and group sizes."""
    sizes = np.array([len(g) for g in groups], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    values = pa.array([v for g in groups for v in g], pa.string())
    return values, offsets, sizes


class _Geography:
    """Countries as arrays, plus flattened spelling, name, city and locale tables."""

    def __init__(self, rates: dict[str, float], aliases: dict[str, tuple[str, ...]]) -> None:
        missing = {c.currency for c in COUNTRIES} - set(rates)
        if missing:
            raise ValueError(f"currencies missing from seeds/currency_rates.csv: {missing}")
        unknown = {c.code for c in COUNTRIES} - set(aliases)
        if unknown:
            raise ValueError(f"countries missing from seeds/country_codes.csv: {unknown}")
        self.weights = np.array([c.weight for c in COUNTRIES])
        self.weights /= self.weights.sum()
        self.currency_codes = tuple(sorted({c.currency for c in COUNTRIES}))
        self.currency_strings = pa.array(self.currency_codes, pa.string())
        self.rates = np.array([rates[c] for c in self.currency_codes])
        self.currency_of = np.array([self.currency_codes.index(c.currency) for c in COUNTRIES])
        self.spellings = _flatten([_country_spellings(aliases[c.code]) for c in COUNTRIES])
        self.locales = _flatten([c.locales for c in COUNTRIES])
        groups = sorted(_NAMES)
        self.name_group = np.array([groups.index(c.names) for c in COUNTRIES])
        self.first_names = _flatten([_NAMES[g][s] for g in groups for s in (0, 1)])
        self.first_names_ascii = pa.array(
            [_email_part(v) for v in self.first_names[0].to_pylist()], pa.string()
        )
        self.last_names = _flatten([_NAMES[g][2] for g in groups])
        self.last_names_ascii = pa.array(
            [_email_part(v) for v in self.last_names[0].to_pylist()], pa.string()
        )
        self.cities = _flatten([[city for _, city, _ in c.cities] for c in COUNTRIES])
        self.regions = pa.array([r for c in COUNTRIES for r, _, _ in c.cities], pa.string())
        self.postcode_templates = [t for c in COUNTRIES for _, _, t in c.cities]
        self.phone_prefixes = pa.array([c.phone_prefix for c in COUNTRIES], pa.string())
        self.company_suffixes = pa.array([c.company_suffix for c in COUNTRIES], pa.string())
        self.stores_per_country = 6


def _email_part(name: str) -> str:
    folded = name.lower().translate(_EMAIL_FOLD)
    return "".join(ch for ch in folded if "a" <= ch <= "z")


class _Catalogue:
    """The product catalogue: fixed size, drawn from its own random stream."""

    def __init__(self, seed: int, geo: _Geography) -> None:
        rng = _rng(seed, 2**31 - 1, 0)
        n = PRODUCT_COUNT
        weights = np.array([c[1] for c in _CATEGORIES])
        category = rng.choice(len(_CATEGORIES), size=n, p=weights / weights.sum())
        subs, sub_offsets, sub_sizes = _flatten([c[3] for c in _CATEGORIES])
        brands, brand_offsets, brand_sizes = _flatten([c[4] for c in _CATEGORIES])
        sub = sub_offsets[category] + (rng.random(n) * sub_sizes[category]).astype(np.int64)
        brand = brand_offsets[category] + (rng.random(n) * brand_sizes[category]).astype(np.int64)
        median = np.array([c[2] for c in _CATEGORIES])[category]
        whole = np.clip(np.floor(rng.lognormal(np.log(median), 0.6)), 1, 1499).astype(np.int64)
        self.list_cents = whole * 100 + 99
        # Prices in every currency: x.99 in EUR-like currencies, whole units - 0.01 in
        # currencies with many units per euro.
        raw = self.list_cents[None, :] * geo.rates[:, None]
        coarse = (geo.rates > 5)[:, None]
        self.price_cents = np.where(coarse, np.ceil(raw / 100) * 100 - 1, np.rint(raw)).astype(
            np.int64
        )
        self.price_strings = _money(self.price_cents.ravel())  # index: currency * n + product
        # Discontinued products are never sold: the only products that may carry a planted
        # defect, so that no order line has a broken parent. A fixed number, so that the
        # bad-row share changes nothing but the planted rows.
        n_unsold = n // 10
        self.unsold = np.zeros(n, dtype=bool)
        self.unsold[rng.choice(n, size=n_unsold, replace=False)] = True
        sellable = np.flatnonzero(~self.unsold)
        self.sellable_by_price = sellable[np.argsort(self.list_cents[sellable], kind="stable")]
        self.product_ids = _ids("P", np.arange(1, n + 1), 5)
        spelled = pa.array([c[0] for c in _CATEGORIES], pa.string()).take(pa.array(category))
        case = rng.random(n)
        category_strings = pc.if_else(
            pa.array(case < 0.70),
            pc.utf8_lower(spelled),
            pc.if_else(pa.array(case < 0.95), spelled, pc.utf8_upper(spelled)),
        )
        brand_strings = brands.take(pa.array(brand))
        sub_strings = subs.take(pa.array(sub))
        model = pc.cast(pa.array(rng.integers(100, 1000, n)), pa.string())
        self.table = pa.table(
            {
                "product_id": self.product_ids,
                "product_name": pc.binary_join_element_wise(brand_strings, sub_strings, model, " "),
                "category": category_strings,
                "subcategory": sub_strings,
                "brand": brand_strings,
                "list_price": _money(self.list_cents),
            }
        )


# ---------------------------------------------------------------------------------------
# Calendar: seasonality and holiday windows
# ---------------------------------------------------------------------------------------


def _black_friday(year: int) -> date:
    nov1 = date(year, 11, 1)
    thanksgiving = nov1 + timedelta(days=(3 - nov1.weekday()) % 7 + 21)
    return thanksgiving + timedelta(days=1)


def _mothers_day(year: int) -> date:
    may1 = date(year, 5, 1)
    return may1 + timedelta(days=(6 - may1.weekday()) % 7 + 7)


def holiday_windows(start_date: date, end_date: date) -> list[tuple[date, date]]:
    """Return the gift-shopping windows (inclusive, UTC dates) between two dates.

    Holiday shoppers only buy inside these windows: Black Friday to Christmas Eve, the two
    weeks before Valentine's Day and the ten days before Mother's Day (second Sunday of May).
    """
    windows = []
    for year in range(start_date.year - 1, end_date.year + 1):
        windows += [
            (_black_friday(year), date(year, 12, 24)),
            (date(year, 2, 1), date(year, 2, 14)),
            (_mothers_day(year) - timedelta(days=10), _mothers_day(year)),
        ]
    clipped = [(max(a, start_date), min(b, end_date)) for a, b in windows]
    return sorted((a, b) for a, b in clipped if a <= b)


# Relative weight of each hour of the day (UTC) for online and store purchases.
_ONLINE_HOURS = np.array([2.0, 1.0, 0.6, 0.4, 0.4, 0.6, 1.2, 2.2, 3.0, 3.5, 3.8, 4.0, 4.5, 4.3,
                          4.0, 3.8, 3.8, 4.0, 4.6, 5.5, 6.0, 5.6, 4.5, 3.2])  # fmt: skip
_STORE_HOURS = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1.5, 3.0, 4.0, 4.5, 5.0, 4.6, 4.4, 4.6, 5.4,
                         6.0, 5.5, 3.5, 1.0, 0, 0, 0])  # fmt: skip
_ONLINE_WEEKDAYS = np.array([1.0, 1.0, 1.0, 0.97, 0.92, 0.9, 1.12])  # Monday first
_STORE_WEEKDAYS = np.array([0.85, 0.85, 0.9, 0.95, 1.15, 1.6, 0.15])
_MONTHS = np.array([0.9, 0.85, 0.95, 0.95, 1.0, 1.05, 1.1, 1.05, 0.95, 1.0, 1.2, 1.35])


class _Calendar:
    """Day weights (seasonality) as cumulative distributions over the date range."""

    def __init__(self, start_date: date, end_date: date) -> None:
        self.start_date = start_date
        self.end_date = end_date
        self.n_days = (end_date - start_date).days + 1
        epoch = date(1970, 1, 1)
        self.start_secs = (start_date - epoch).days * SECONDS_PER_DAY
        self.end_secs = ((end_date - epoch).days + 1) * SECONDS_PER_DAY - 1
        days = np.datetime64(start_date, "D") + np.arange(self.n_days)
        month = days.astype("datetime64[M]").astype(np.int64) % 12
        weekday = (days.astype(np.int64) + 3) % 7
        trend = 1.0 + 0.25 * np.arange(self.n_days) / self.n_days
        online = trend * _ONLINE_WEEKDAYS[weekday] * _MONTHS[month]
        store = trend * _STORE_WEEKDAYS[weekday] * _MONTHS[month]

        def index(d: date) -> int:
            return (d - start_date).days

        def boost(weights: np.ndarray, first: date, last: date, factor: float) -> None:
            lo, hi = max(index(first), 0), min(index(last), self.n_days - 1)
            if lo <= hi:
                weights[lo : hi + 1] *= factor

        for year in range(start_date.year, end_date.year + 1):
            bf = _black_friday(year)
            for weights, peak in ((online, 1.0), (store, 0.8)):
                boost(weights, bf - timedelta(days=4), bf - timedelta(days=1), 1.6)
                boost(weights, bf, bf, 3.0 * peak)
                boost(weights, bf + timedelta(days=1), bf + timedelta(days=2), 1.8)
                boost(weights, bf + timedelta(days=3), bf + timedelta(days=3), 2.4 * peak)
                boost(weights, date(year, 2, 7), date(year, 2, 14), 1.35)
                mothers = _mothers_day(year)
                boost(weights, mothers - timedelta(days=7), mothers - timedelta(days=1), 1.3)
            boost(online, date(year, 12, 1), date(year, 12, 20), 1.5)
            boost(online, date(year, 12, 21), date(year, 12, 23), 1.1)
            boost(online, date(year, 12, 24), date(year, 12, 24), 0.6)
            boost(online, date(year, 12, 25), date(year, 12, 26), 0.5)
            boost(online, date(year, 7, 1), date(year, 7, 14), 1.25)
            boost(store, date(year, 12, 1), date(year, 12, 23), 1.7)
            boost(store, date(year, 12, 24), date(year, 12, 24), 0.8)
            boost(store, date(year, 12, 25), date(year, 12, 26), 0.05)
            boost(store, date(year, 7, 1), date(year, 7, 14), 1.1)
        self.holiday_mask = np.zeros(self.n_days, dtype=bool)
        for first, last in holiday_windows(start_date, end_date):
            self.holiday_mask[index(first) : index(last) + 1] = True
        # Holiday shoppers buy mostly from Black Friday to Christmas, less around Valentine's
        # and Mother's Day.
        holiday = np.where(self.holiday_mask, online, 0.0) * np.where(month >= 10, 1.0, 0.5)
        self.cdfs = {
            name: np.concatenate([[0.0], np.cumsum(w)])
            for name, w in (("online", online), ("store", store), ("holiday", holiday))
        }
        self.hour_cdfs = {
            "online": np.cumsum(_ONLINE_HOURS) / _ONLINE_HOURS.sum(),
            "store": np.cumsum(_STORE_HOURS) / _STORE_HOURS.sum(),
        }

    def sample_days(
        self, rng: np.random.Generator, kind: str, lo: np.ndarray, hi: np.ndarray
    ) -> np.ndarray:
        """Draw one day index per element in [lo, hi] from the seasonal distribution."""
        cdf = self.cdfs[kind]
        last = self.n_days - 1
        hi = np.clip(hi, 0, last)
        lo = np.clip(lo, 0, hi)
        # A window without weight (no holiday in it) is widened forward to the end date.
        hi = np.where(cdf[hi + 1] <= cdf[lo], last, hi)
        low, high = cdf[lo], cdf[hi + 1]
        days = np.searchsorted(cdf, low + rng.random(lo.size) * (high - low), side="right") - 1
        return np.clip(days, lo, hi)

    def sample_seconds(self, rng: np.random.Generator, days: np.ndarray, kind: str) -> np.ndarray:
        """Turn day indexes into UTC epoch seconds with a realistic time of day."""
        hour = np.searchsorted(self.hour_cdfs[kind], rng.random(days.size), side="right")
        return (
            self.start_secs
            + days.astype(np.int64) * SECONDS_PER_DAY
            + np.minimum(hour, 23) * 3600
            + rng.integers(0, 3600, days.size)
        )


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


# ---------------------------------------------------------------------------------------
# Configuration and per-process context
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GeneratorConfig:
    """Arguments of one generator run (everything the data depends on)."""

    customers: int = 100_000
    seed: int = 42
    bad_row_share: float = 0.01
    start_date: date = date(2023, 7, 1)
    end_date: date = date(2026, 6, 30)
    tables: tuple[str, ...] = TABLES

    def __post_init__(self) -> None:
        """Validate the arguments."""
        if self.customers < 1:
            raise ValueError("customers must be at least 1")
        if self.customers >= 10**8:
            raise ValueError("customers must be below 100,000,000")
        if not 0 <= self.bad_row_share <= 0.5:
            raise ValueError("bad_row_share must be between 0 and 0.5")
        if (self.end_date - self.start_date).days < 365:
            raise ValueError("end_date must be at least 365 days after start_date")
        unknown = set(self.tables) - set(TABLES)
        if unknown or not self.tables:
            raise ValueError(f"unknown or no tables: {sorted(unknown)}; choose from {TABLES}")

    @property
    def written(self) -> frozenset[str]:
        """The tables written to the output."""
        return frozenset(self.tables)


class _Context:
    """Reference data shared by all chunks of a run (built once per process)."""

    def __init__(self, config: GeneratorConfig) -> None:
        self.config = config
        self.geo = _Geography(_read_currency_rates(), _read_country_aliases())
        self.calendar = _Calendar(config.start_date, config.end_date)
        self.catalogue = _Catalogue(config.seed, self.geo)
        self.id_width = max(8, len(str(config.customers)))


# Random streams inside a chunk: independent, so skipping a table changes nothing else.
(_S_PEOPLE, _S_LINES, _S_STORE, _S_SESSIONS, _S_CONSENTS, _S_FEEDBACK, _S_RETURNS,
 _S_CUSTOMERS) = range(8)  # fmt: skip
_S_PLANT = 100  # + table index


@dataclass
class ChunkResult:
    """The output of one chunk: raw tables, labels and planted bad rows."""

    index: int
    tables: dict[str, pa.Table]
    labels: pa.Table
    bad_rows: list[pa.Table] = field(default_factory=list)


# ---------------------------------------------------------------------------------------
# One chunk of customers
# ---------------------------------------------------------------------------------------


class _Chunk:
    """Builds every table for the customers of one chunk; arrays are indexed by account."""

    def __init__(self, ctx: _Context, index: int) -> None:
        self.ctx = ctx
        self.config = ctx.config
        self.cal = ctx.calendar
        self.geo = ctx.geo
        self.index = index
        self.first_number = index * CHUNK_SIZE + 1
        self.n = min(CHUNK_SIZE, self.config.customers - index * CHUNK_SIZE)
        self.numbers = self.first_number + np.arange(self.n, dtype=np.int64)
        self.key_base = index * ID_SPACE + 1

    def rng(self, stream: int) -> np.random.Generator:
        return _rng(self.config.seed, self.index, stream)

    def keys(self, prefix: str, n: int) -> pa.Array:
        if n >= ID_SPACE:
            raise ValueError(f"too many {prefix} rows in one chunk")
        return _ids(prefix, self.key_base + np.arange(n), 10)

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

        geo = self.geo
        self.country = copy_to_secondary(rng.choice(len(COUNTRIES), size=n, p=geo.weights))
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
        self.city = copy_to_secondary(
            city_offsets[self.country] + (rng.random(n) * city_sizes[self.country]).astype(np.int64)
        )
        self.home_store = copy_to_secondary(rng.integers(0, geo.stores_per_country, n))
        self.is_b2b = self.is_person & (rng.random(n) < _persona_array("b2b_prob")[persona])
        guest_draw = rng.random(n) < _persona_array("guest_prob")[persona]
        self.is_guest = (self.is_person & guest_draw & ~self.is_b2b & ~is_primary) | (
            self.is_secondary & (self.dup_kind == _DUP_GUEST)
        )
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
        guest_dup = is_primary & (self.dup_kind == _DUP_GUEST)
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
        to_guest = (
            (self.dup_kind[person] == _DUP_GUEST)
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
        n, geo = self.n, self.geo
        person_number = self.numbers[self.person]
        first_names, _, _ = geo.first_names
        last_names, _, _ = geo.last_names
        first = first_names.take(pa.array(self.first_name))
        last = last_names.take(pa.array(self.last_name))
        # Email: unique per person, messy case and whitespace, still valid after trim+lower.
        clean_email = pc.binary_join_element_wise(
            geo.first_names_ascii.take(pa.array(self.first_name)),
            ".",
            geo.last_names_ascii.take(pa.array(self.last_name)),
            pc.cast(pa.array(person_number), pa.string()),
            "@",
            _choice(rng, _EMAIL_DOMAINS, n),
            "",
        )
        mess = rng.random(n)
        email = pc.if_else(
            pa.array(mess < 0.85),
            clean_email,
            pc.if_else(
                pa.array(mess < 0.92),
                pc.utf8_upper(clean_email),
                pc.if_else(
                    pa.array(mess < 0.96),
                    pc.utf8_capitalize(clean_email),
                    pc.binary_join_element_wise(" ", clean_email, "  ", ""),
                ),
            ),
        )
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
        email = _nulls_where(email, no_email & ~guest_secondary)
        # Phone: unique digits per person, many formats; duplicates keep the digits.
        national = pc.cast(
            pa.array(1_000_000_000 + _scramble(person_number, 9_000_000_000, 1_234_567)),
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
        phone = pc.choose(pa.array(style), *formats)
        no_phone = np.where(self.is_guest, rng.random(n) < 0.7, rng.random(n) < 0.35)
        needs_phone = (self.dup_kind == _DUP_STORE) & (self.is_person | store_secondary)
        phone = _nulls_where(phone, no_phone & ~needs_phone)
        # Birth date, gender, address.
        age_days = rng.integers(18 * 365, 85 * 365, n)
        birth = (np.datetime64(self.config.end_date, "D") - age_days).astype(str)
        birth_date = _nulls_where(pa.array(birth), self.is_guest | (rng.random(n) < 0.25))
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
        city = _nulls_where(cities.take(pa.array(self.city)), rng.random(n) < 0.05)
        postcode = pa.nulls(n, pa.string())
        for city_index, template in enumerate(geo.postcode_templates):
            rows = np.flatnonzero(self.city == city_index)
            if rows.size:
                mask = np.zeros(n, dtype=bool)
                mask[rows] = True
                postcode = pc.replace_with_mask(
                    postcode, pa.array(mask), _fill_template(rng, template, rows.size)
                )
        postcode = _nulls_where(postcode, self.is_guest & (rng.random(n) < 0.5))
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
        company = pc.binary_join_element_wise(
            last,
            _choice(rng, _COMPANY_WORDS, n),
            geo.company_suffixes.take(pa.array(self.country)),
            " ",
        )
        size = np.clip(rng.lognormal(3.0, 1.5, n), 1, 20_000).astype(np.int64)
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
                "locale": locale,
                "signed_up_at": signed_up_at,
                "is_guest": _pick(("false", "true"), self.is_guest.astype(np.int64)),
                "loyalty_card_id": card,
                "company_name": _nulls_where(company, ~self.is_b2b),
                "company_industry": _nulls_where(industry, ~self.is_b2b),
                "company_size": _nulls_where(pc.cast(pa.array(size), pa.string()), ~self.is_b2b),
            }
        )

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

    def feedback(self) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        rng = self.rng(_S_FEEDBACK)
        n = self.o_person.size
        persona = self.persona[self.o_person]
        returned = self.o_returned
        prob = np.minimum(_persona_array("feedback_prob")[persona] * np.where(returned, 3, 1), 0.6)
        submitted = self.o_secs + rng.integers(SECONDS_PER_DAY, 21 * SECONDS_PER_DAY, n)
        pick = (rng.random(n) < prob) & (submitted <= self.cal.end_secs)
        order = np.flatnonzero(pick)
        k = order.size
        was_returned = returned[order]
        kind = np.where(
            was_returned,
            rng.choice(3, size=k, p=[0.3, 0.25, 0.45]),
            rng.choice(3, size=k, p=[0.5, 0.38, 0.12]),
        )  # survey, review, complaint
        mood = _persona_array("satisfaction")[persona[order]] - 3.0 * was_returned
        nps = np.clip(np.rint(rng.normal(mood, 1.8)), 0, 10).astype(np.int64)
        rating = np.clip(np.rint(rng.normal(1 + mood / 2.5, 0.9)), 1, 5).astype(np.int64)
        score = np.where(
            kind == 0,
            np.where(nps >= 9, 0, np.where(nps >= 7, 1, 2)),
            np.where(rating >= 4, 0, np.where(rating == 3, 1, 2)),
        )
        score = np.where(kind == 2, 2, score)
        comments, offsets, sizes = _flatten(_COMMENTS)
        comment = comments.take(
            pa.array(offsets[score] + (rng.random(k) * sizes[score]).astype(np.int64))
        )
        with_comment = np.select(
            [kind == 2, kind == 1], [True, rng.random(k) < 0.5], rng.random(k) < 0.2
        )
        resolved = submitted[order] + rng.integers(3600, 14 * SECONDS_PER_DAY, k)
        unresolved = (kind != 2) | (rng.random(k) < 0.2) | (resolved > self.cal.end_secs)
        order_ids = self.order_ids().take(pa.array(order))
        return (
            pa.table(
                {
                    "feedback_id": self.keys("F", k),
                    "customer_id": self.customer_ids().take(pa.array(self.o_account[order])),
                    "order_id": _nulls_where(order_ids, rng.random(k) < 0.05),
                    "submitted_at": _timestamps(submitted[order], _styles(rng, k)),
                    "feedback_type": _pick(("survey", "review", "complaint"), kind),
                    "nps_score": _nulls_where(_small_ints(nps), kind != 0),
                    "rating": _nulls_where(_small_ints(rating), kind != 1),
                    "comment": _nulls_where(comment, ~with_comment),
                    "resolved_at": _nulls_where(
                        _timestamps(np.minimum(resolved, self.cal.end_secs), _styles(rng, k)),
                        unresolved,
                    ),
                }
            ),
            self.o_account[order],
            np.where(order_ids.is_null().to_numpy(False), -1, order),
        )

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

    # -- web sessions -------------------------------------------------------------------------

    def web_sessions(self) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        rng = self.rng(_S_SESSIONS)
        n_people = self.n
        online = np.flatnonzero(self.o_channel < 2)
        extra = rng.poisson(0.5, online.size)
        # Sessions of prospects who browse without buying.
        prospect = np.flatnonzero((self.persona == _P["prospect"]) & (rng.random(n_people) < 0.3))
        prospect_sessions = 1 + rng.poisson(1.5, prospect.size)
        browse_person = np.repeat(prospect, prospect_sessions)
        browse_start = np.maximum(self.signup_secs[browse_person], self.cal.start_secs)
        browse_secs = browse_start + (
            rng.random(browse_person.size) * (self.cal.end_secs - browse_start)
        ).astype(np.int64)
        # Converting sessions, then sessions in the two weeks before an online order.
        extra_order = np.repeat(online, extra)
        order = np.concatenate([online, extra_order, np.full(browse_person.size, -1)])
        converting = np.zeros(order.size, dtype=bool)
        converting[: online.size] = True
        safe_order = np.maximum(order, 0)
        account = np.where(
            order >= 0,
            self.o_account[safe_order],
            np.concatenate([np.zeros(online.size + extra_order.size, np.int64), browse_person]),
        )
        person = self.person[account]
        gap = np.where(
            converting,
            rng.integers(60, 2400, order.size),
            rng.integers(3600, 14 * SECONDS_PER_DAY, order.size),
        )
        secs = np.maximum(
            np.where(order >= 0, self.o_secs[safe_order] - gap, 0), self.cal.start_secs
        )
        secs[online.size + extra_order.size :] = browse_secs
        logged_in = converting | (rng.random(order.size) < np.where(order >= 0, 0.5, 0.6))
        app = (order >= 0) & (self.o_channel[safe_order] == 1) & converting
        device = np.where(
            app,
            np.where(rng.random(order.size) < 0.9, 0, 2),
            rng.choice(3, size=order.size, p=[0.45, 0.45, 0.1]),
        )
        n_identified = order.size
        anonymous = rng.poisson(0.3 * n_identified)
        days = self.cal.sample_days(
            rng, "online", np.zeros(anonymous, np.int64), np.full(anonymous, self.cal.n_days - 1)
        )
        secs = np.concatenate([secs, self.cal.sample_seconds(rng, days, "online")])
        device = np.concatenate([device, rng.choice(3, size=anonymous, p=[0.55, 0.35, 0.1])])
        app = np.concatenate([app, np.zeros(anonymous, dtype=bool)])
        n = secs.size
        # Devices: a person's phone, computer and tablet each keep one anonymous id and
        # one operating system / browser.
        device_number = np.concatenate(
            [
                self.numbers[person] * 4 + device[:n_identified],
                10**11 + self.index * ID_SPACE + np.arange(anonymous),
            ]
        )
        anon_id = _ids("ck_", _scramble(device_number, 10**12, 31_337), 12)
        h = _scramble(device_number, 1000, 7)
        device_types = ("mobile", "desktop", "tablet")
        mobile_os = np.where(h % 100 < 55, 0, 1)  # iOS, Android
        desktop_os = np.select([h % 100 < 65, h % 100 < 95], [2, 3], 4)  # Windows, macOS, Linux
        os_index = np.where(device == 1, desktop_os, mobile_os)
        operating_systems = ("iOS", "Android", "Windows", "macOS", "Linux")
        browser = np.select(
            [app, os_index == 0, os_index == 1, os_index == 3],
            [0, 1, np.where(h // 100 < 8, 2, 3), np.where(h // 100 < 6, 1, 2)],
            np.select([h // 100 < 6, h // 100 < 8], [2, 4], 5),
        )
        browsers = ("Shop App", "Safari", "Chrome", "Samsung Internet", "Edge", "Firefox")
        persona = np.concatenate([self.persona[person], np.full(anonymous, _P["regular"])])
        deals = persona == _P["discount_driven"]
        source = np.where(
            deals,
            rng.choice(len(_TRAFFIC_SOURCES), size=n, p=_TRAFFIC_WEIGHTS_DEALS),
            rng.choice(len(_TRAFFIC_SOURCES), size=n, p=_TRAFFIC_WEIGHTS),
        )
        converting = np.concatenate([converting, np.zeros(anonymous, dtype=bool)])
        page_views = np.where(converting, 3 + rng.geometric(0.25, n), rng.geometric(0.35, n))
        session_account = np.concatenate([np.where(logged_in, account, -1), np.full(anonymous, -1)])
        session_order = np.concatenate(
            [np.where(converting[:n_identified], order, -1), np.full(anonymous, -1)]
        )
        customer_id = _nulls_where(
            self.customer_ids().take(pa.array(np.maximum(session_account, 0))),
            session_account < 0,
        )
        order_id = _nulls_where(
            self.order_ids().take(pa.array(np.maximum(session_order, 0))), session_order < 0
        )
        table = pa.table(
            {
                "session_id": self.keys("W", n),
                "started_at": _timestamps(secs, _styles(rng, n)),
                "anonymous_id": anon_id,
                "customer_id": customer_id,
                "device_type": _pick(device_types, device),
                "operating_system": _pick(operating_systems, os_index),
                "browser": _pick(browsers, browser),
                "traffic_source": _pick(_TRAFFIC_SOURCES, source),
                "page_views": _small_ints(page_views),
                "order_id": order_id,
            }
        )
        return table, session_account, session_order

    # -- consents -------------------------------------------------------------------------------

    def consents(self) -> tuple[pa.Table, np.ndarray]:
        rng = self.rng(_S_CONSENTS)
        counts = 1 + rng.binomial(2, 0.35, self.n)
        account, rank = _ranks(counts)
        n = account.size
        signup = self.signup_secs[account]
        end = self.cal.end_secs
        later = signup + (rng.random(n) * (end - signup)).astype(np.int64)
        secs = np.minimum(np.where(rank == 0, signup + rng.integers(0, 120, n), later), end)
        first = rank == 0
        channels = ("email", "sms", "push", "post", "phone")
        channel = np.where(first, 0, rng.choice(5, size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1]))
        purpose = np.where(first, 0, rng.choice(3, size=n, p=[0.6, 0.25, 0.15]))
        status = np.where(rng.random(n) < np.where(first, 0.65, 0.55), 0, 1)
        guest = self.is_guest[account]
        at_store = self.is_secondary[account] & (self.dup_kind[account] == _DUP_STORE)
        first_point = np.select([guest, at_store], [0, 2], rng.choice([0, 1, 3], size=n))
        later_point = rng.choice([4, 5, 2, 6, 7], size=n)
        points = (
            "checkout",
            "newsletter_form",
            "store",
            "signup_form",
            "preference_center",
            "app",
            "customer_service",
            "unsubscribe_link",
        )
        table = pa.table(
            {
                "consent_id": self.keys("K", n),
                "customer_id": self.customer_ids().take(pa.array(account)),
                "channel": _pick(channels, channel),
                "purpose": _pick(("marketing", "profiling", "personalisation"), purpose),
                "status": _pick(("granted", "revoked"), status),
                "recorded_at": _timestamps(secs, _styles(rng, n)),
                "collection_point": _pick(points, np.where(first, first_point, later_point)),
            }
        )
        return table, account

    # -- the whole chunk -----------------------------------------------------------------------

    def build(self) -> ChunkResult:
        written = self.config.written
        share = self.config.bad_row_share
        self.people()
        self.timeline()
        self.purchases()
        self.order_values()
        self.return_events()
        result = ChunkResult(self.index, {}, self.labels())

        def quarantined(parents: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
            """Rows with a quarantined parent; parents are (quarantined mask, index or -1)."""
            mask = np.zeros(parents[0][1].size, dtype=bool)
            for parent_mask, parent in parents:
                mask |= (parent >= 0) & parent_mask[np.maximum(parent, 0)]
            return mask

        def plant(name: str, table: pa.Table, blocked: np.ndarray) -> np.ndarray:
            """Plant defects on rows not blocked; return the rows that carry one."""
            rng = self.rng(_S_PLANT + TABLES.index(name))
            planted, touched, bad = _plant(name, table, rng, share, ~blocked, written)
            result.tables[name] = planted
            if bad.num_rows:
                result.bad_rows.append(bad)
            return touched

        # Defects go top-down, only on rows whose parents are clean. "Quarantined" masks
        # include the cascade (children of a broken parent), which the warehouse drops too.
        q_customer = np.zeros(self.n, dtype=bool)
        if "customers" in written:
            # Duplicate identities stay clean so that they remain recognisable.
            q_customer = plant("customers", self.customers(), self.dup_kind > 0)
        by_customer = quarantined([(q_customer, self.o_account)])
        q_order = by_customer.copy()
        if "orders" in written:
            q_order |= plant("orders", self.orders(), by_customer)
        by_order = quarantined([(q_order, self.l_order)])
        q_line = by_order.copy()
        if "order_lines" in written:
            q_line |= plant("order_lines", self.order_lines(), by_order)
        if "returns" in written:
            blocked = quarantined([(q_order, self.r_order), (q_line, self.r_line)])
            plant("returns", self.returns(), blocked)
        if "store_transactions" in written:
            table, account = self.store_transactions()
            plant("store_transactions", table, quarantined([(q_customer, account)]))
        if "web_sessions" in written:
            table, account, order = self.web_sessions()
            blocked = quarantined([(q_customer, account), (q_order, order)])
            plant("web_sessions", table, blocked)
        if "consents" in written:
            table, account = self.consents()
            plant("consents", table, quarantined([(q_customer, account)]))
        if "feedback" in written:
            table, account, order = self.feedback()
            blocked = quarantined([(q_customer, account), (q_order, order)])
            plant("feedback", table, blocked)
        return result


# ---------------------------------------------------------------------------------------
# Running chunks (in this process or in worker processes) and writing the output
# ---------------------------------------------------------------------------------------


def _chunk_results(ctx: _Context, threads: int) -> Iterator[ChunkResult]:
    """Build the chunks in order, up to ``threads`` at a time.

    numpy and pyarrow release the GIL on large arrays, so threads overlap well; results
    are yielded in chunk order and at most ``threads`` chunks are held in memory.
    """
    n_chunks = math.ceil(ctx.config.customers / CHUNK_SIZE)
    if threads <= 1 or n_chunks == 1:
        for index in range(n_chunks):
            yield _Chunk(ctx, index).build()
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="chunk") as pool:
        pending: deque[Future[ChunkResult]] = deque()
        for index in range(n_chunks):
            pending.append(pool.submit(lambda i: _Chunk(ctx, i).build(), index))
            if len(pending) >= threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class _Writer:
    """Streams the chunks of one table to a Parquet or CSV file."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self.rows = 0
        self._file = None
        if fmt == "csv":
            # A plain header; values are quoted (strings) or empty (nulls) by pyarrow.
            self._file = path.open("wb")
            self._file.write((",".join(schema.names) + "\n").encode())
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            self._writer: pq.ParquetWriter | pacsv.CSVWriter = pacsv.CSVWriter(
                self._file, schema, write_options=options
            )
        else:
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table)
            self.rows += table.num_rows

    def write_all(self, tables: Sequence[pa.Table]) -> None:
        for table in tables:
            self.write(table)

    def close(self) -> None:
        self._writer.close()
        if self._file is not None:
            self._file.close()


def _raw_schema(name: str) -> pa.Schema:
    return pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[name]])


def generate(
    out_dir: str | os.PathLike[str] = "data/demo",
    customers: int = 100_000,
    seed: int = 42,
    fmt: str = "parquet",
    bad_row_share: float = 0.01,
    start_date: date | str = date(2023, 7, 1),
    end_date: date | str = date(2026, 6, 30),
    tables: Sequence[str] | None = None,
    threads: int | None = None,
) -> dict[str, int]:
    """Generate the demo data set and return the number of rows written per raw table.

    Writes ``out_dir/raw/<table>.<fmt>`` for the chosen tables (all by default) and
    ``out_dir/ground_truth/{customer_labels,bad_rows}.parquet``, replacing existing files.
    The data depends only on the arguments, never on ``threads`` or the machine.
    """
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}")
    selected = set(TABLES if tables is None else tables)
    if selected - set(TABLES):
        raise ValueError(f"unknown tables: {sorted(selected - set(TABLES))}")
    config = GeneratorConfig(
        customers=customers,
        seed=seed,
        bad_row_share=bad_row_share,
        start_date=_as_date(start_date),
        end_date=_as_date(end_date),
        tables=tuple(t for t in TABLES if t in selected),
    )
    threads = threads if threads is not None else min(2, os.cpu_count() or 1)
    out = Path(out_dir)
    raw_dir, truth_dir = out / "raw", out / "ground_truth"
    raw_dir.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)
    ctx = _Context(config)
    writers: dict[str, _Writer] = {}
    for name in config.tables:
        for other in FORMATS:  # a stale file in the other format would shadow this one
            (raw_dir / f"{name}.{other}").unlink(missing_ok=True)
        writers[name] = _Writer(raw_dir / f"{name}.{fmt}", _raw_schema(name), fmt)
    labels = _Writer(truth_dir / "customer_labels.parquet", LABEL_SCHEMA, "parquet")
    bad_rows = _Writer(truth_dir / "bad_rows.parquet", BAD_ROW_SCHEMA, "parquet")
    try:
        if "products" in writers:
            eligible = ctx.catalogue.unsold
            rng = _rng(seed, 2**31 - 1, _S_PLANT + TABLES.index("products"))
            products, _, bad = _plant(
                "products", ctx.catalogue.table, rng, bad_row_share, eligible, config.written
            )
            writers["products"].write(products)
            bad_rows.write(bad)
        # Each chunk is written in background threads (one task per file) while the next
        # chunk is built; waiting for the previous chunk's writes keeps every file in order.
        with ThreadPoolExecutor(max_workers=len(writers) + 2, thread_name_prefix="write") as io:
            previous: list[Future[None]] = []
            for result in _chunk_results(ctx, threads):
                for future in previous:
                    future.result()
                previous = [io.submit(writers[n].write, t) for n, t in result.tables.items()]
                previous.append(io.submit(labels.write, result.labels))
                previous.append(io.submit(bad_rows.write_all, result.bad_rows))
            for future in previous:
                future.result()
    finally:
        for writer in (*writers.values(), labels, bad_rows):
            writer.close()
    return {name: writer.rows for name, writer in writers.items()}


def _as_date(value: date | str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="generate_demo_data",
        description=(
            "Generate deterministic, realistic raw demo data (shop, pos, web, crm sources) "
            "plus ground truth (customer personas, planted bad rows)."
        ),
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=100_000,
        help="customer accounts to generate (default: 100000)",
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default: 42)")
    parser.add_argument(
        "--out",
        default="data/demo",
        help="output directory; raw/ and ground_truth/ go below it (default: data/demo)",
    )
    parser.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="parquet",
        help="raw file format (default: parquet)",
    )
    parser.add_argument(
        "--bad-row-share",
        type=float,
        default=0.01,
        help="share of rows per table replaced or added as contract-breaking "
        "rows; 0 writes clean data (default: 0.01)",
    )
    parser.add_argument(
        "--start-date",
        type=date.fromisoformat,
        default=date(2023, 7, 1),
        help="first day of generated activity (default: 2023-07-01)",
    )
    parser.add_argument(
        "--end-date",
        type=date.fromisoformat,
        default=date(2026, 6, 30),
        help="last day of generated activity, UTC (default: 2026-06-30)",
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        metavar="TABLE",
        help="write only these raw tables (space or comma separated); "
        f"choices: {', '.join(TABLES)}",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="chunks built in parallel (default: up to 2); never changes the data",
    )
    args = parser.parse_args(argv)
    if args.tables:
        args.tables = [t.strip() for item in args.tables for t in item.split(",") if t.strip()]
        unknown = sorted(set(args.tables) - set(TABLES))
        if unknown:
            parser.error(f"unknown tables: {', '.join(unknown)} (choose from {', '.join(TABLES)})")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command-line interface; return the process exit code."""
    args = _parse_args(argv)
    started = time.perf_counter()
    try:
        counts = generate(
            args.out,
            customers=args.customers,
            seed=args.seed,
            fmt=args.fmt,
            bad_row_share=args.bad_row_share,
            start_date=args.start_date,
            end_date=args.end_date,
            tables=args.tables,
            threads=args.threads,
        )
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    seconds = time.perf_counter() - started
    print(
        f"Wrote {args.customers:,} customers (seed {args.seed}) to {args.out}/raw "
        f"as {args.fmt} in {seconds:.1f} s"
    )
    width = max(len(name) for name in counts)
    for name, rows in counts.items():
        print(f"  {name:<{width}}  {rows:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
