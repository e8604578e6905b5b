"""The ISO reference seeds: complete, unambiguous, and exactly what the generator builds."""

from __future__ import annotations

import csv
from pathlib import Path
from types import SimpleNamespace

import duckdb
import phonenumbers
import pycountry
import pytest

from segment_warehouse.documentation import reference_seeds
from segment_warehouse.documentation.reference_seeds import (
    ECB_RATES_DATE,
    build_calling_codes,
    build_country_aliases,
    build_currency_rates,
    read_ecb_rates,
    render_seeds,
)

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

# Every alias of seeds/country_codes.csv before it was generated from ISO data: each must
# still map to the same country.
PRE_EXISTING_ALIASES: dict[str, tuple[str, ...]] = {
    "DE": ("de", "deu", "germany", "deutschland"),
    "AT": ("at", "aut", "austria", "österreich", "oesterreich"),
    "CH": ("ch", "che", "switzerland", "schweiz", "suisse"),
    "FR": ("fr", "fra", "france"),
    "BE": ("be", "bel", "belgium", "belgique", "belgië"),
    "NL": ("nl", "nld", "netherlands", "the netherlands", "holland", "nederland"),
    "LU": ("lu", "lux", "luxembourg"),
    "ES": ("es", "esp", "spain", "españa", "espana"),
    "PT": ("pt", "prt", "portugal"),
    "IT": ("it", "ita", "italy", "italia"),
    "IE": ("ie", "irl", "ireland"),
    "GB": (
        "gb",
        "gbr",
        "united kingdom",
        "uk",
        "great britain",
        "england",
        "scotland",
        "wales",
        "northern ireland",
    ),
    "US": ("us", "usa", "united states", "united states of america", "u.s.", "u.s.a."),
    "CA": ("ca", "can", "canada"),
    "SE": ("se", "swe", "sweden", "sverige"),
    "DK": ("dk", "dnk", "denmark", "danmark"),
    "NO": ("no", "nor", "norway", "norge"),
    "FI": ("fi", "fin", "finland", "suomi"),
    "PL": ("pl", "pol", "poland", "polska"),
    "CZ": ("cz", "cze", "czechia", "czech republic"),
}

# The project's own rates before the ECB rates were added; tests elsewhere depend on them.
PROJECT_RATES = {
    "EUR": 1.0,
    "USD": 1.08,
    "GBP": 0.85,
    "CHF": 0.95,
    "SEK": 11.2,
    "DKK": 7.46,
    "NOK": 11.6,
    "PLN": 4.3,
}


def _read_seed(name: str) -> list[dict[str, str]]:
    with (SEEDS_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def country_seed() -> list[dict[str, str]]:
    return _read_seed("country_codes")


@pytest.fixture(scope="module")
def alias_codes(country_seed: list[dict[str, str]]) -> dict[str, str]:
    return {row["country_alias"]: row["country_code"] for row in country_seed}


def _resolve(spellings: list[str]) -> dict[str, str | None]:
    """Map raw country values as staging does: trim, blank is null, lower, join the seed."""
    connection = duckdb.connect()
    connection.execute(
        f"""create table country_codes as
        select lower(trim(country_alias)) as country_alias,
               upper(trim(country_code)) as country_code
        from read_csv('{SEEDS_DIR / "country_codes.csv"}', header = true, all_varchar = true)"""
    )
    connection.execute("create table raw (country varchar)")
    connection.executemany("insert into raw values (?)", [(s,) for s in spellings])
    rows = connection.execute(
        """select raw.country, country_codes.country_code
        from raw
        left join country_codes
            on lower(nullif(trim(raw.country), '')) = country_codes.country_alias"""
    ).fetchall()
    return dict(rows)


def test_every_iso_country_resolves_from_its_codes_and_english_name() -> None:
    expected: dict[str, str] = {}
    for country in pycountry.countries:
        for value in (country.alpha_2, country.alpha_3, country.name):
            for spelling in (value, value.upper(), value.lower(), f"  {value} "):
                expected[spelling] = country.alpha_2
    resolved = _resolve(list(expected))
    wrong = {s: (resolved[s], code) for s, code in expected.items() if resolved[s] != code}
    assert wrong == {}
    assert len(pycountry.countries) == 249


def test_australia_maps_to_au() -> None:
    spellings = ["AU", "au", "AUS", "aus", "Australia", "AUSTRALIA", " australia "]
    assert _resolve(spellings) == dict.fromkeys(spellings, "AU")


def test_official_and_common_names_resolve() -> None:
    spellings = {
        "United Kingdom of Great Britain and Northern Ireland": "GB",
        "Federal Republic of Germany": "DE",
        "South Korea": "KR",
        "Korea, Republic of": "KR",
        "Bolivia": "BO",
        "Côte d'Ivoire": "CI",
        "Taiwan": "TW",
        "Narnia": None,
    }
    assert _resolve(list(spellings)) == spellings


def test_every_seed_code_is_an_iso_country_with_its_english_short_name(
    country_seed: list[dict[str, str]],
) -> None:
    names = {(row["country_code"], row["country_name"]) for row in country_seed}
    assert names == {(c.alpha_2, c.name) for c in pycountry.countries}


def test_aliases_are_trimmed_lower_case_and_map_to_one_country(
    country_seed: list[dict[str, str]],
) -> None:
    aliases = [row["country_alias"] for row in country_seed]
    assert len(aliases) == len(set(aliases))
    assert all(alias == alias.strip().lower() and alias for alias in aliases)
    connection = duckdb.connect()
    changed = connection.execute(
        f"""select count(*) from read_csv('{SEEDS_DIR / "country_codes.csv"}', all_varchar = true)
        where lower(trim(country_alias)) <> country_alias""",
    ).fetchall()[0][0]
    assert changed == 0  # DuckDB's lower() agrees with Python's, so staging keeps them unique
    codes_per_alias = connection.execute(
        f"""select max(codes) from (
            select count(distinct country_code) as codes
            from read_csv('{SEEDS_DIR / "country_codes.csv"}', all_varchar = true)
            group by lower(trim(country_alias))
        )""",
    ).fetchall()[0][0]
    assert codes_per_alias == 1


def test_pre_existing_aliases_still_map_as_before(alias_codes: dict[str, str]) -> None:
    assert sum(len(aliases) for aliases in PRE_EXISTING_ALIASES.values()) == 88
    moved = {
        alias: (alias_codes.get(alias), code)
        for code, aliases in PRE_EXISTING_ALIASES.items()
        for alias in aliases
        if alias_codes.get(alias) != code
    }
    assert moved == {}


def test_seed_counts(country_seed: list[dict[str, str]]) -> None:
    assert len({row["country_code"] for row in country_seed}) == 249
    assert len(country_seed) == 949
    assert len(_read_seed("currency_codes")) == 178
    assert len(_read_seed("currency_rates")) == 30
    assert len(_read_seed("country_calling_codes")) == 242


def test_currency_list_is_pycountrys_iso_4217_list() -> None:
    seed = {
        (row["currency_code"], row["currency_numeric_code"], row["currency_name"])
        for row in _read_seed("currency_codes")
    }
    assert seed == {(c.alpha_3, c.numeric, c.name) for c in pycountry.currencies}
    assert ("ALL", "008", "Lek") in seed
    assert all(len(numeric) == 3 and numeric.isdigit() for _, numeric, _ in seed)


def test_every_rate_is_for_a_listed_currency_and_sourced() -> None:
    currencies = {row["currency_code"] for row in _read_seed("currency_codes")}
    rates = {row["currency_code"]: row["units_per_eur"] for row in _read_seed("currency_rates")}
    assert set(rates) <= currencies
    assert {code: float(rates[code]) for code in PROJECT_RATES} == PROJECT_RATES
    assert list(rates)[: len(PROJECT_RATES)] == list(PROJECT_RATES)
    ecb = read_ecb_rates(ECB_RATES_DATE)
    unsourced = {
        code: rate
        for code, rate in rates.items()
        if code not in PROJECT_RATES and ecb.get(code) != rate
    }
    assert unsourced == {}
    assert all(float(rate) > 0 for rate in rates.values())
    assert {"AUD", "JPY", "CAD"} <= set(rates)


def test_calling_codes_are_libphonenumbers_for_every_iso_country_that_has_one() -> None:
    seed = {
        row["country_code"]: (row["calling_code"], row["national_prefix"])
        for row in _read_seed("country_calling_codes")
    }
    assert len(seed) == len(_read_seed("country_calling_codes"))
    without = {c.alpha_2 for c in pycountry.countries} - set(seed)
    assert without == {"AQ", "BV", "GS", "HM", "PN", "TF", "UM"}
    assert all(phonenumbers.country_code_for_region(code) == 0 for code in without)
    assert {
        code: seed[code] for code in ("DE", "US", "CA", "IT", "ES", "GB", "HU", "RU", "AT")
    } == {
        "DE": ("49", "0"),
        "US": ("1", "1"),
        "CA": ("1", "1"),
        "IT": ("39", ""),
        "ES": ("34", ""),
        "GB": ("44", "0"),
        "HU": ("36", "06"),
        "RU": ("7", "8"),
        "AT": ("43", "0"),
    }
    for code, (calling_code, national_prefix) in seed.items():
        assert calling_code == str(phonenumbers.country_code_for_region(code)), code
        assert 1 <= len(calling_code) <= 3 and calling_code.isdigit(), code
        assert national_prefix == "" or national_prefix.isdigit(), code


def test_calling_codes_skip_countries_without_one_and_reject_odd_prefixes() -> None:
    rows = build_calling_codes(
        ["ZZ", "AQ", "AA", "ZZ"],
        {"AA": 49, "ZZ": 36, "AQ": 0}.__getitem__,
        {"AA": "0", "ZZ": None, "AQ": None}.__getitem__,
    )
    assert rows == [("AA", "49", "0"), ("ZZ", "36", "")]
    with pytest.raises(ValueError, match="national prefix of AA"):
        build_calling_codes(["AA"], lambda _: 1, lambda _: "0?")


def test_seeds_read_the_same_with_duckdbs_sniffer() -> None:
    """test_demo_data and ad-hoc queries read the seeds with DuckDB's CSV sniffer."""
    connection = duckdb.connect()
    for name in ("country_codes", "currency_codes"):
        sniffed = connection.execute(f"select * from read_csv('{SEEDS_DIR / name}.csv')").fetchall()
        assert sniffed == [tuple(row.values()) for row in _read_seed(name)], name


def test_generator_reproduces_the_committed_seeds() -> None:
    files, countries = render_seeds()
    assert set(files) == {
        "country_codes.csv",
        "country_calling_codes.csv",
        "currency_codes.csv",
        "currency_rates.csv",
    }
    for name, text in files.items():
        assert (SEEDS_DIR / name).read_text(encoding="utf-8") == text, (
            f"seeds/{name} differs from a rebuild: run make reference-seeds"
        )
    assert countries.overridden == ()
    assert reference_seeds.main(["--check"]) == 0


def test_check_reports_a_stale_seed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert reference_seeds.main(["--seeds-dir", str(tmp_path)]) == 0
    for name in (
        "country_codes.csv",
        "country_calling_codes.csv",
        "currency_codes.csv",
        "currency_rates.csv",
    ):
        assert (tmp_path / name).read_text(encoding="utf-8") == (SEEDS_DIR / name).read_text(
            encoding="utf-8"
        )
    (tmp_path / "currency_rates.csv").write_text("currency_code,units_per_eur\nEUR,1\n")
    capsys.readouterr()
    assert reference_seeds.main(["--seeds-dir", str(tmp_path), "--check"]) == 1
    assert "currency_rates.csv" in capsys.readouterr().out


def _country(alpha_2: str, alpha_3: str, name: str, **names: str) -> SimpleNamespace:
    return SimpleNamespace(alpha_2=alpha_2, alpha_3=alpha_3, name=name, **names)


def test_a_local_alias_wins_over_another_countrys_generated_alias() -> None:
    countries = [
        _country("AA", "AAA", "Aland", common_name="Twin"),
        _country("BB", "BBB", "Beland", official_name="Kingdom of Beland"),
    ]
    built = build_country_aliases(countries, [("twin", "BB"), (" Old Beland ", "BB")])
    assert built.rows == (
        ("aa", "AA", "Aland"),
        ("aaa", "AA", "Aland"),
        ("aland", "AA", "Aland"),
        ("bb", "BB", "Beland"),
        ("bbb", "BB", "Beland"),
        ("beland", "BB", "Beland"),
        ("kingdom of beland", "BB", "Beland"),
        ("twin", "BB", "Beland"),
        ("old beland", "BB", "Beland"),
    )
    assert built.overridden == (("twin", "AA", "BB"),)


def test_an_alias_generated_for_two_countries_is_an_error() -> None:
    countries = [
        _country("AA", "AAA", "Aland", common_name="Twin"),
        _country("BB", "BBB", "Twin"),
    ]
    with pytest.raises(ValueError, match="'twin' is generated for both AA and BB"):
        build_country_aliases(countries, [])
    assert build_country_aliases(countries, [("twin", "BB")]).overridden == (("twin", "AA", "BB"),)


def test_a_local_alias_for_an_unknown_country_is_an_error() -> None:
    with pytest.raises(ValueError, match="XK"):
        build_country_aliases([_country("AA", "AAA", "Aland")], [("kosovo", "XK")])


def test_rates_keep_the_projects_and_add_only_iso_currencies_the_ecb_quotes() -> None:
    rates = build_currency_rates(
        ["EUR", "USD", "JPY", "AUD", "XAU"],
        {"USD": "1.1172", "JPY": "175.68", "HRK": "7.5345", "AUD": "1.5904"},
        [("EUR", "1.0000"), ("USD", "1.0800")],
    )
    assert rates == [("EUR", "1.0000"), ("USD", "1.0800"), ("AUD", "1.5904"), ("JPY", "175.68")]
    with pytest.raises(ValueError, match="BGN"):
        build_currency_rates(["EUR"], {}, [("EUR", "1"), ("BGN", "1.9558")])
