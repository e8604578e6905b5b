"""The published file cannot single a person out (docs/privacy.md).

The real job (``refresh``) publishes a demo warehouse; the tests read only the published
DuckDB file and the raw customers file: every combination of the quasi-identifiers of every
published table, joined on customer_id, covers at least k people (k = 5, then 10 through
the var), and no published value is a city, postcode, company name, birth date, exact age,
loyalty card or anonymous id, unless ``--include-pii`` asks for them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import yaml

from segment_warehouse.paths import PROJECT_DIR

REFRESH = ["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"]
AS_OF_DATE = "2026-06-30"
CUSTOMERS = 10_000

# columns that describe who a person is (independent of the project's tags)
QUASI_IDENTIFIER_COLUMNS = {
    "gender", "country_code", "country_name", "region", "city", "postcode", "locale",
    "language_code", "company_name", "company_industry", "company_size", "is_business",
    "age_years", "birth_date", "age_band_segment", "gender_segment", "country_segment",
    "region_segment", "language_segment", "industry_segment", "company_size_segment",
}  # fmt: skip
QUASI_IDENTIFIER_GROUPS = {"demographic", "geographic", "firmographic"}


def _families() -> set[str]:
    """Segment families of a person's attributes (their yml group), read from the files."""
    families = set()
    for path in (PROJECT_DIR / "models/marts/segments/families").glob("*.yml"):
        for exposure in yaml.safe_load(path.read_text()).get("exposures", []):
            family = exposure["config"]["meta"]["segment_family"]
            if family.get("group") in QUASI_IDENTIFIER_GROUPS:
                families.add(family["family"])
    return families


def _refresh(root: Path, raw_dir: Path, published: Path, *args: str) -> None:
    command = [
        sys.executable, *REFRESH, "--target", "test",
        "--database", str(root / "warehouse.duckdb"), "--published", str(published),
        "--target-path", str(root / "target"), "--as-of-date", AS_OF_DATE,
        "--max-source-age-days", "-1", "--no-parquet", *args,
    ]  # fmt: skip
    env = {**os.environ, "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Publications of one demo warehouse: k = 5, k = 10 and with --include-pii."""
    from segment_warehouse.demo.generator import generate

    root = tmp_path_factory.mktemp("privacy")
    generate(root / "demo", customers=CUSTOMERS, seed=11, fmt="parquet")
    raw_dir = root / "demo" / "raw"
    files = {
        "k5": root / "k5" / "published.duckdb",
        "k10": root / "k10" / "published.duckdb",
        "pii": root / "pii" / "published.duckdb",
    }
    _refresh(root, raw_dir, files["k5"])
    _refresh(root, raw_dir, files["k10"], "--vars", '{"privacy.min_group_size": 10}')
    _refresh(root, raw_dir, files["pii"], "--include-pii")
    return {**files, "raw": raw_dir}


def _tables(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as connection:
        names = connection.sql("select table_name from published_tables").fetchall()
        return {name: connection.sql(f'select * from "{name}"').df() for (name,) in names}


def _person_attributes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every quasi-identifier a person shows anywhere in the file, one row per person."""
    families = _families()
    frames = []
    for name, table in tables.items():
        if "customer_id" not in table.columns:
            continue
        if "segment_family" in table.columns:
            rows = table[table["segment_family"].isin(families)]
            if rows.empty:
                continue
            texts = rows.drop(columns="customer_id").map(str).agg("|".join, axis=1)
            shown = (
                texts.groupby(rows["customer_id"]).agg(lambda v: "/".join(sorted(v))).rename(name)
            )
            frames.append(shown.to_frame())
            continue
        columns = sorted(QUASI_IDENTIFIER_COLUMNS & set(table.columns))
        if columns:
            assert table["customer_id"].is_unique, name
            shown = table.set_index("customer_id")[columns].map(str)
            frames.append(shown.add_prefix(f"{name}."))
    people = pd.concat(frames, axis=1, join="outer").fillna("<no row>")
    assert len(people) > 0.9 * CUSTOMERS
    return people


def _smallest_group(path: Path) -> tuple[int, int]:
    people = _person_attributes(_tables(path))
    sizes = people.groupby(list(people.columns), dropna=False).size()
    return int(sizes.min()), len(people.columns)


@pytest.mark.parametrize(("file", "k"), [("k5", 5), ("k10", 10)])
def test_every_published_combination_covers_k_people(
    published: dict[str, Path], file: str, k: int
) -> None:
    smallest, columns = _smallest_group(published[file])
    assert columns >= 10  # the demographic columns of dim_customers and customer_segments
    assert smallest >= k


def test_with_pii_the_exact_values_single_people_out(published: dict[str, Path]) -> None:
    """The check above can fail: the exact publication has groups of one."""
    smallest, _ = _smallest_group(published["pii"])
    assert smallest == 1


def _raw(raw_dir: Path, table: str) -> pd.DataFrame:
    return duckdb.sql(f"select * from '{raw_dir / table}.parquet'").df()


def _texts(tables: dict[str, pd.DataFrame]) -> dict[str, set[str]]:
    values = {}
    for name, table in tables.items():
        for column in table.columns:
            if pd.api.types.is_string_dtype(table[column].dtype):
                values[f"{name}.{column}"] = {
                    str(value).strip().lower() for value in table[column].dropna().unique()
                }
    return values


def _identifiers(raw_dir: Path) -> dict[str, set[str]]:
    customers = _raw(raw_dir, "customers")
    regions = {str(v).strip().lower() for v in customers["region"].dropna()}

    def lowered(values: pd.Series) -> set[str]:
        return {str(v).strip().lower() for v in values.dropna() if str(v).strip()}

    return {
        # a city that is also a region (Berlin) may show as the region
        "city": lowered(customers["city"]) - regions,
        "postcode": lowered(customers["postcode"]),
        "company_name": lowered(customers["company_name"]),
        "loyalty_card": lowered(customers["loyalty_card_id"])
        | lowered(_raw(raw_dir, "store_transactions")["loyalty_card_id"]),
        "anonymous_id": lowered(_raw(raw_dir, "web_sessions")["anonymous_id"]),
    }


def _leaks(path: Path, raw_dir: Path) -> dict[str, list[str]]:
    tables = _tables(path)
    identifiers = _identifiers(raw_dir)
    leaks: dict[str, list[str]] = {}
    for column, values in _texts(tables).items():
        parts = values | {value.split(":", 1)[-1] for value in values}
        for kind, known in identifiers.items():
            if parts & known:
                leaks.setdefault(kind, []).append(column)
        if any("age_years=" in value for value in values):
            leaks.setdefault("exact_age", []).append(column)
    # birth dates and exact ages, against the raw customers of the shop (their ids stay)
    customers = _raw(raw_dir, "customers").drop_duplicates("customer_id").set_index("customer_id")
    birth = pd.to_datetime(customers["birth_date"], errors="coerce")
    age = (pd.Timestamp(AS_OF_DATE) - birth).dt.days // 365.25
    for name, table in tables.items():
        if "customer_id" not in table.columns or not table["customer_id"].is_unique:
            continue
        joined = table.set_index("customer_id").join(birth.rename("_birth"), how="inner")
        joined = joined.join(age.rename("_age"))
        for column in table.columns.drop("customer_id"):
            values = joined[column]
            if pd.api.types.is_datetime64_any_dtype(values) or values.dtype == object:
                dates = pd.to_datetime(values.astype("datetime64[ns]"), errors="coerce")
                if (dates.notna() & (dates == joined["_birth"])).sum() > 0.5 * len(joined):
                    leaks.setdefault("birth_date", []).append(f"{name}.{column}")
            elif pd.api.types.is_integer_dtype(values):
                close = ((values - joined["_age"]).abs() <= 1).sum()
                if close > 0.5 * joined["_age"].notna().sum():
                    leaks.setdefault("exact_age", []).append(f"{name}.{column}")
    return leaks


def test_no_published_value_is_a_direct_or_exact_identifier(published: dict[str, Path]) -> None:
    assert _leaks(published["k5"], published["raw"]) == {}


def test_with_pii_the_exact_columns_are_published(published: dict[str, Path]) -> None:
    leaks = _leaks(published["pii"], published["raw"])
    assert "dim_customers.city" in leaks["city"]
    assert "dim_customers.company_name" in leaks["company_name"]
    assert "dim_customers.postcode" in leaks["postcode"]
    assert "dim_customers.age_years" in leaks["exact_age"]
    assert "dim_customers.birth_date" in leaks["birth_date"]
    assert "identity_map.customer_id" in leaks["loyalty_card"]
    assert "identity_map.source_customer_id" in leaks["anonymous_id"]


def test_pseudonymised_ids_join_across_tables(published: dict[str, Path]) -> None:
    """A card-only person's id is the same hash in identity_map and dim_customers."""
    tables = _tables(published["k5"])
    identity = tables["identity_map"]
    cards = identity[identity["source"] == "pos"]
    own = cards[cards["customer_id"].str.startswith("pos:")]
    assert len(own) > 0
    assert (own["customer_id"] == "pos:" + own["source_customer_id"]).all()
    assert own["source_customer_id"].str.fullmatch("[0-9a-f]{16}").all()
    assert set(own["customer_id"]) <= set(tables["dim_customers"]["customer_id"])
