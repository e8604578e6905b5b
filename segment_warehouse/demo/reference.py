"""Reference data of the demo: countries, names, products, and the calendar's seasonality."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from segment_warehouse.demo.columns import _ids, _money, _rng
from segment_warehouse.demo.personas import PRODUCT_COUNT, SECONDS_PER_DAY
from segment_warehouse.paths import project_paths

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

#: Street names per name group, and whether the house number comes first ("12 High Street").
_STREETS: dict[str, tuple[bool, tuple[str, ...]]] = {
    "de": (False, ("Hauptstraße", "Bahnhofstraße", "Gartenstraße", "Schillerstraße",
                   "Goethestraße", "Lindenstraße", "Bergstraße", "Kirchstraße", "Waldstraße",
                   "Mozartstraße", "Schulstraße", "Am Markt", "Rosenweg", "Birkenweg")),
    "en": (True, ("High Street", "Station Road", "Church Street", "Park Road", "Victoria Road",
                  "Green Lane", "Manor Road", "Kings Road", "Queen Street", "Mill Lane",
                  "New Street", "London Road")),
    "fr": (True, ("rue de la Paix", "rue Victor Hugo", "avenue Jean Jaurès",
                  "boulevard Voltaire", "rue du Moulin", "rue de l'Église",
                  "avenue de la République", "rue Pasteur", "place de la Mairie",
                  "rue des Lilas")),
    "nl": (False, ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat",
                   "Nieuwstraat", "Julianalaan", "Beatrixstraat", "Marktplein", "Lindelaan")),
    "nordic": (False, ("Storgatan", "Kyrkogatan", "Drottninggatan", "Skolevej", "Storgata",
                       "Kirkegata", "Parkvej", "Strandvejen", "Nygatan", "Søndergade")),
    "pl": (False, ("ul. Długa", "ul. Polna", "ul. Leśna", "ul. Słoneczna", "ul. Krótka",
                   "ul. Szkolna", "ul. Ogrodowa", "ul. Lipowa", "ul. Kościelna")),
    "es": (False, ("Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle del Sol",
                   "Plaza de España", "Calle Nueva", "Avenida de Andalucía")),
    "it": (False, ("Via Roma", "Via Garibaldi", "Corso Italia", "Via Dante", "Via Mazzini",
                   "Piazza Cavour", "Via Verdi", "Viale Europa")),
}  # fmt: skip
#: Abbreviations a second record of a person may use ("Hauptstr." for "Hauptstraße").
_STREET_ABBREVIATIONS = (
    ("straße", "str."), ("Street", "St"), ("Road", "Rd"), ("Lane", "Ln"), ("avenue", "av."),
    ("boulevard", "bd"), ("place", "pl."), ("straat", "str."), ("laan", "ln"),
    ("weg", "wg."), ("gatan", "g."), ("gata", "g."), ("vej", "v."), ("ul. ", "ulica "),
    ("Calle ", "C/ "), ("Avenida", "Avda."), ("Plaza", "Pl."), ("Viale", "V.le"),
    ("Via ", "V. "), ("Corso", "C.so"), ("Piazza", "P.za"),
)  # fmt: skip
#: The second address line of a few people: a flat number, or care of someone (last name).
_ADDRESS_LINE2 = ("Apt", "Flat", "Unit", "Floor", "c/o")


def _abbreviated(street: str) -> str:
    for full, short in _STREET_ABBREVIATIONS:
        street = street.replace(full, short)
    return street


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
    table = pacsv.read_csv(project_paths().seeds_dir / "currency_rates.csv")
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
    table = pacsv.read_csv(project_paths().seeds_dir / "country_codes.csv", convert_options=convert)
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
        self.streets = _flatten([_STREETS[g][1] for g in groups])
        self.streets_short = pa.array(
            [_abbreviated(v) for v in self.streets[0].to_pylist()], pa.string()
        )
        self.number_first = np.array([_STREETS[g][0] for g in groups])
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
