"""Tests of the demo data generator: contract, determinism, planted behaviours, bad rows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from segment_warehouse.demo.generator import TABLES, generate, main
from segment_warehouse.demo.reference import holiday_windows
from segment_warehouse.documentation.contract import load_contract

PROJECT_DIR = Path(__file__).resolve().parents[2]
SEEDS_DIR = PROJECT_DIR / "seeds"
START, END = date(2023, 7, 1), date(2026, 6, 30)
CUSTOMERS = 2_000
SEED = 5
SHARE = 0.02
ARGS = {"customers": CUSTOMERS, "seed": SEED, "bad_row_share": SHARE}
REFERENCE_REASONS = {"unknown_customer", "unknown_order", "unknown_product"}
EMAIL_PATTERN = r"[^@\s]+@[^@\s]+\.[^@\s]+"


#: Columns of every raw table, as the contract in the sources YAML declares them.
SOURCES = {table.name: table.columns for table in load_contract()}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo")
    generate(out, **ARGS)
    return out


@pytest.fixture(scope="module")
def clean_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean")
    generate(out, customers=CUSTOMERS, seed=SEED, bad_row_share=0)
    return out


def _connect(out: Path, fmt: str = "parquet") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one all-text view per raw table and the ground truth."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    for table in TABLES:
        path = out / "raw" / f"{table}.{fmt}"
        reader = (
            f"read_parquet('{path}')"
            if fmt == "parquet"
            else f"read_csv('{path}', header = true, all_varchar = true)"
        )
        con.execute(f"create view {table} as select * from {reader}")
    for name in ("customer_labels", "bad_rows"):
        path = out / "ground_truth" / f"{name}.parquet"
        con.execute(f"create view {name} as select * from read_parquet('{path}')")
    for view, seed in (("rates", "currency_rates"), ("countries", "country_codes")):
        con.execute(f"create view {view} as select * from read_csv('{SEEDS_DIR / seed}.csv')")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> Any:
    return con.execute(sql).fetchone()[0]


def _clean(table: str) -> str:
    """Rows of a table whose key is not listed as bad (duplicates dropped)."""
    key = SOURCES[table][0].name
    return f"""(
        select distinct * from {table}
        where {key} is not null and {key} not in (
            select primary_key from bad_rows
            where table_name = '{table}' and primary_key is not null
        )
    )"""


def _defect_checks(table: str) -> Iterator[tuple[str, str]]:
    """(reason, SQL predicate) for every row-level defect, derived from the contract."""
    for column in SOURCES[table]:
        name, kind = column.name, column.type
        if column.required:
            yield "missing_value", f"{name} is null"
        if kind in ("timestamp", "date"):
            yield "invalid_value", f"{name} is not null and try_cast({name} as timestamptz) is null"
        if kind == "timestamp":
            parsed = f"try_cast({name} as timestamptz)"
            yield "future_timestamp", f"{parsed} > timestamptz '{END + timedelta(days=1)}'"
            yield "timestamp_out_of_range", f"{parsed} < timestamptz '1990-01-01'"
        if kind == "decimal":
            parsed = f"try_cast({name} as decimal(18, 2))"
            yield "invalid_value", f"{name} is not null and {parsed} is null"
            if name in ("amount", "refund_amount", "unit_price"):
                yield "negative_amount", f"{parsed} < 0"
        if kind == "integer":
            yield "invalid_value", f"{name} is not null and try_cast({name} as bigint) is null"
        if kind == "boolean":
            yield "invalid_value", f"{name} is not null and try_cast({name} as boolean) is null"
        if name == "currency":
            yield "unknown_currency", f"{name} not in (select currency_code from rates)"
        if name == "email":
            valid = f"regexp_full_match(lower(trim({name})), '{EMAIL_PATTERN}')"
            yield "malformed_email", f"not {valid}"
    if table in ("orders", "store_transactions"):
        rate = "(select units_per_eur from rates where currency_code = currency)"
        yield "absurd_amount", f"try_cast(amount as decimal(18, 2)) / {rate} > 50000"
    if table == "order_lines":
        yield "non_positive_quantity", "try_cast(quantity as bigint) <= 0"
    if table == "feedback":
        yield "out_of_range", "try_cast(nps_score as bigint) not between 0 and 10"
        yield "out_of_range", "try_cast(rating as bigint) not between 1 and 5"
    if table == "consents":
        yield "invalid_value", "status not in ('granted', 'revoked')"


def _found_defects(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    """(key, reason, number of defects on the row) for rows with a row-level defect."""
    key = SOURCES[table][0].name
    checks = list(_defect_checks(table))
    flags = ", ".join(f"coalesce({sql}, false) as f{i}" for i, (_, sql) in enumerate(checks))
    reasons = " || ".join(
        f"case when f{i} then '{reason}|' else '' end" for i, (reason, _) in enumerate(checks)
    )
    count = " + ".join(f"f{i}::int" for i in range(len(checks)))
    return _rows(
        con,
        f"""
        with flagged as (select {key} as key, {flags} from {table})
        select key, {reasons} as reasons, {count} as defects from flagged where {count} > 0
        """,
    )


def _references(table: str) -> list[tuple[str, str, str]]:
    """(reason, column, parent table) of the references a table must satisfy."""
    refs = {
        "orders": [("unknown_customer", "customer_id", "customers")],
        "order_lines": [
            ("unknown_order", "order_id", "orders"),
            ("unknown_product", "product_id", "products"),
        ],
        "returns": [("unknown_order", "order_id", "orders")],
        "store_transactions": [("unknown_customer", "customer_id", "customers")],
        "web_sessions": [("unknown_customer", "customer_id", "customers")],
        "consents": [("unknown_customer", "customer_id", "customers")],
        "feedback": [("unknown_customer", "customer_id", "customers")],
    }
    return refs.get(table, [])


def _ts(column: str) -> str:
    return f"try_cast({column} as timestamptz)"


# ---------------------------------------------------------------------------------------
# Contract and output layout
# ---------------------------------------------------------------------------------------


def test_columns_match_the_sources_yaml(dataset: Path) -> None:
    assert set(SOURCES) == set(TABLES)
    for table in TABLES:
        expected = [column.name for column in SOURCES[table]]
        assert pq.read_schema(dataset / "raw" / f"{table}.parquet").names == expected, table
    assert sorted(p.name for p in (dataset / "ground_truth").iterdir()) == [
        "bad_rows.parquet",
        "customer_labels.parquet",
    ]
    labels = pq.read_schema(dataset / "ground_truth" / "customer_labels.parquet").names
    assert labels == [
        "customer_id", "person_id", "persona", "is_vip", "is_discount_driven", "is_churned",
        "is_holiday_shopper", "is_duplicate_identity",
    ]  # fmt: skip
    bad = pq.read_schema(dataset / "ground_truth" / "bad_rows.parquet").names
    assert bad == ["table_name", "primary_key", "reason"]


def test_same_arguments_give_identical_data(dataset: Path, tmp_path: Path) -> None:
    generate(tmp_path, **ARGS, threads=1)
    for path in sorted(dataset.glob("*/*.parquet")):
        again = tmp_path / path.relative_to(dataset)
        assert pq.read_table(path).equals(pq.read_table(again)), path.name
    other = tmp_path / "other_seed"
    generate(other, **{**ARGS, "seed": SEED + 1}, tables=["orders"])
    assert not pq.read_table(other / "raw" / "orders.parquet").equals(
        pq.read_table(dataset / "raw" / "orders.parquet")
    )


def test_csv_and_parquet_hold_the_same_data(dataset: Path, tmp_path: Path) -> None:
    generate(tmp_path, **ARGS, fmt="csv")
    assert sorted(p.suffix for p in (tmp_path / "raw").iterdir()) == [".csv"] * len(TABLES)
    parquet, csv = _connect(dataset), _connect(tmp_path, "csv")
    for table in TABLES:
        header = (tmp_path / "raw" / f"{table}.csv").read_text().split("\n", 1)[0]
        assert header == ",".join(column.name for column in SOURCES[table])
        left = parquet.sql(f"select * from {table}").to_arrow_table()
        right = csv.sql(f"select * from {table}").to_arrow_table()
        assert left.equals(right), table
    assert _value(parquet, "select count(*) from customers where country like ' %'") > 0


def test_tables_option_writes_only_those_tables(tmp_path: Path, capsys) -> None:
    assert main(["--customers", "1000", "--out", str(tmp_path), "--tables", "orders"]) == 0
    assert "orders" in capsys.readouterr().out
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == ["orders.parquet"]
    con = duckdb.connect()
    orders = f"read_parquet('{tmp_path / 'raw' / 'orders.parquet'}')"
    bad = f"read_parquet('{tmp_path / 'ground_truth' / 'bad_rows.parquet'}')"
    assert _rows(con, f"select distinct table_name from {bad}") == [("orders",)]
    reasons = {reason for (reason,) in _rows(con, f"select distinct reason from {bad}")}
    assert "unknown_customer" not in reasons
    assert {"missing_value", "duplicate_key", "unknown_currency"} <= reasons
    # customer ids look normal: only planted empty ones differ
    odd = f"select count(*) from {orders} where customer_id not similar to 'C[0-9]{{8}}'"
    empty = f"select count(*) from {orders} where customer_id is null"
    assert _value(con, odd) == 0
    assert _value(con, empty) > 0


def test_bad_row_share_zero_plants_nothing(clean_dataset: Path) -> None:
    con = _connect(clean_dataset)
    assert _value(con, "select count(*) from bad_rows") == 0
    for table in TABLES:
        assert _found_defects(con, table) == [], table
        key = SOURCES[table][0].name
        duplicates = f"select count(*) - count(distinct {key}) from {table}"
        assert _value(con, duplicates) == 0, table
        for _, column, parent in _references(table):
            parent_key = SOURCES[parent][0].name
            orphans = f"""select count(*) from {table} where {column} is not null
                and {column} not in (select {parent_key} from {parent})"""
            assert _value(con, orphans) == 0, (table, column)


def test_bad_row_share_changes_only_the_planted_rows(dataset: Path, clean_dataset: Path) -> None:
    con = _connect(dataset)
    for table in TABLES:
        path = clean_dataset / "raw" / f"{table}.parquet"
        key = SOURCES[table][0].name
        differing = f"""
            select count(*) from (
                (select * from read_parquet('{path}') except select * from {_clean(table)})
                union all
                (select * from {_clean(table)} except select * from read_parquet('{path}'))
            ) where {key} not in (
                select primary_key from bad_rows where primary_key is not null
                and table_name = '{table}'
            )"""
        assert _value(con, differing) == 0, table


def test_clean_values_follow_the_contract(clean_dataset: Path) -> None:
    con = _connect(clean_dataset)
    end = f"timestamptz '{END} 23:59:59'"
    for table in TABLES:
        for column in SOURCES[table]:
            if column.type == "timestamp":
                latest = _value(con, f"select max({_ts(column.name)}) <= {end} from {table}")
                assert latest in (True, None), (table, column.name)
    unmapped = """select count(*) from customers where country is not null
        and lower(trim(country)) not in (select country_alias from countries)"""
    assert _value(con, unmapped) == 0
    spellings = _value(con, "select count(distinct country) from customers")
    assert spellings > 40
    assert _value(con, "select count(*) from customers where email <> lower(trim(email))") > 0
    assert _value(con, "select count(distinct currency) from orders") == 8
    styles = _rows(
        con,
        """select count(*) filter (where ordered_at like '%+01:00'),
                  count(*) filter (where ordered_at like '%+02:00'),
                  count(*) filter (where ordered_at like '%Z'),
                  count(*) filter (where length(ordered_at) = 10)
           from orders""",
    )[0]
    assert min(styles) > 0
    # signup before the first purchase, on every account
    late = """select count(*) from customers c join (
            select customer_id, min(try_cast(ordered_at as timestamptz)) as first_at
            from orders group by 1) o using (customer_id)
        where try_cast(c.signed_up_at as timestamptz) >= o.first_at"""
    assert _value(con, late) == 0


def test_order_amounts_equal_their_lines(dataset: Path) -> None:
    con = _connect(dataset)
    differences = _rows(
        con,
        f"""
        with bad_orders as (
            select primary_key as order_id from bad_rows where table_name = 'orders'
            union all
            select split_part(primary_key, '-', 1) from bad_rows
            where table_name = 'order_lines' and primary_key is not null
            union all
            select order_id from order_lines where order_line_id is null
        ),
        lines as (
            select order_id,
                sum(quantity::int * unit_price::decimal(18, 2)
                    - discount_amount::decimal(18, 2)) as net
            from {_clean("order_lines")} group by 1
        )
        select
            count(*),
            count(*) filter (
                where o.amount::decimal(18, 2) + o.discount_amount::decimal(18, 2) <> l.net
            )
        from {_clean("orders")} as o
        join lines as l using (order_id)
        where o.order_id not in (select order_id from bad_orders where order_id is not null)
        """,
    )[0]
    checked, wrong = differences
    assert wrong == 0
    assert checked > 0.85 * _value(con, "select count(*) from orders")


# ---------------------------------------------------------------------------------------
# Planted bad rows
# ---------------------------------------------------------------------------------------


def test_every_planted_bad_row_is_broken_exactly_once(dataset: Path) -> None:
    con = _connect(dataset)
    for table in TABLES:
        key = SOURCES[table][0].name
        planted = _rows(
            con,
            f"select primary_key, reason from bad_rows where table_name = '{table}'",
        )
        assert planted, table
        keyed = [k for k, _ in planted if k is not None]
        assert len(keyed) == len(set(keyed)), f"{table}: a key is listed twice"
        # row-level defects: exactly the listed rows, one defect each
        found = _found_defects(con, table)
        assert all(defects == 1 for _, _, defects in found), table
        expected = sorted(
            (k or "", r) for k, r in planted if r not in REFERENCE_REASONS | {"duplicate_key"}
        )
        actual = sorted((k or "", reasons.rstrip("|")) for k, reasons, _ in found)
        assert actual == expected, table
        # duplicates: one listed row per extra copy
        copies = _rows(
            con,
            f"select {key} from {table} where {key} is not null group by 1 having count(*) > 1",
        )
        listed = sorted(k for k, r in planted if r == "duplicate_key")
        assert sorted(k for (k,) in copies) == listed, table
        # references: every orphan is a listed bad row and vice versa
        for reason, column, parent in _references(table):
            parent_key = SOURCES[parent][0].name
            orphans = _rows(
                con,
                f"""select {key} from {table} where {column} is not null
                    and {column} not in (select {parent_key} from {parent} where {parent_key}
                    is not null)""",
            )
            listed = sorted(k for k, r in planted if r == reason)
            assert sorted(k for (k,) in orphans) == listed, (table, reason)


def test_bad_rows_cover_the_reason_codes_and_share(dataset: Path) -> None:
    con = _connect(dataset)
    reasons = dict(_rows(con, "select table_name, list(distinct reason) from bad_rows group by 1"))
    assert set(reasons["orders"]) == {
        "missing_value", "invalid_value", "future_timestamp", "timestamp_out_of_range",
        "negative_amount", "absurd_amount", "unknown_currency", "unknown_customer",
        "duplicate_key",
    }  # fmt: skip
    assert {"malformed_email", "missing_value", "duplicate_key"} <= set(reasons["customers"])
    assert {"unknown_order", "unknown_product", "non_positive_quantity"} <= set(
        reasons["order_lines"]
    )
    assert "out_of_range" in reasons["feedback"]
    for table in TABLES:
        rows = _value(con, f"select count(*) from {table}")
        bad = _value(con, f"select count(*) from bad_rows where table_name = '{table}'")
        if rows > 2_000:
            assert 0.7 * SHARE < bad / rows < 1.3 * SHARE, table
        else:
            assert 0 < bad / rows < 3 * SHARE, table


def test_planted_defects_have_clean_parents(dataset: Path) -> None:
    con = _connect(dataset)
    bad_customers = "select primary_key from bad_rows where table_name = 'customers'"
    bad_orders = "select primary_key from bad_rows where table_name = 'orders'"
    orders_of_bad_customers = _value(
        con,
        f"""select count(*) from orders o join bad_rows b
            on b.table_name = 'orders' and b.primary_key = o.order_id
            where o.customer_id in ({bad_customers})""",
    )
    assert orders_of_bad_customers == 0
    lines_of_bad_orders = _value(
        con,
        f"""select count(*) from bad_rows where table_name = 'order_lines'
            and split_part(primary_key, '-', 1) in ({bad_orders})""",
    )
    assert lines_of_bad_orders == 0


# ---------------------------------------------------------------------------------------
# Planted behaviours
# ---------------------------------------------------------------------------------------


def _purchases(con: duckdb.DuckDBPyConnection) -> str:
    """Clean shop orders and identified store purchases with the buyer's person id."""
    return f"""(
        select l.person_id, l.persona, try_cast(o.ordered_at as timestamptz) as bought_at,
            o.amount::decimal(18, 2) / r.units_per_eur as amount_eur, 'shop' as kind
        from {_clean("orders")} as o
        join customer_labels as l using (customer_id)
        join rates as r on r.currency_code = o.currency
        union all
        select l.person_id, l.persona, try_cast(s.transacted_at as timestamptz),
            s.amount::decimal(18, 2) / r.units_per_eur, 'store'
        from {_clean("store_transactions")} as s
        left join (select distinct customer_id, loyalty_card_id from customers
                   where loyalty_card_id is not null) as c using (loyalty_card_id)
        join customer_labels as l on l.customer_id = coalesce(s.customer_id, c.customer_id)
        join rates as r on r.currency_code = s.currency
    )"""


def test_volumes_are_realistic(dataset: Path) -> None:
    con = _connect(dataset)
    orders, lines, buyers = _rows(
        con,
        """select (select count(*) from orders), (select count(*) from order_lines),
                  (select count(distinct customer_id) from orders)""",
    )[0]
    assert 4.5 < orders / buyers < 7
    assert 3.0 < lines / orders < 4.2
    assert 15 < lines / CUSTOMERS < 25
    returned = _value(con, "select count(distinct order_id) from returns") / orders
    assert 0.06 < returned < 0.16
    assert 0.07 < _value(con, "select count(*) from feedback") / orders < 0.2
    per_customer = _value(con, "select count(*) from consents") / CUSTOMERS
    assert 1 < per_customer < 3
    assert 500 <= _value(con, "select count(*) from products") <= 2_000
    personas = "select persona, count(*) / sum(count(*)) over () from customer_labels group by 1"
    shares = dict(_rows(con, personas))
    assert shares["vip"] == pytest.approx(0.02, abs=0.01)
    assert shares["discount_driven"] == pytest.approx(0.08, abs=0.02)
    assert shares["churned"] == pytest.approx(0.15, abs=0.03)
    b2b = _value(con, "select avg((company_name is not null)::int) from customers")
    guests = _value(con, "select avg((is_guest = 'true')::int) from customers")
    assert 0.015 < b2b < 0.05
    assert 0.07 < guests < 0.13


def test_churned_customers_stopped_buying(dataset: Path) -> None:
    con = _connect(dataset)
    cutoff = f"timestamptz '{END - timedelta(days=200)}'"
    last, orders = _rows(
        con,
        f"""select max(bought_at), count(*) filter (where kind = 'shop') / count(distinct person_id)
            from {_purchases(con)} where persona = 'churned'""",
    )[0]
    assert _value(con, f"select timestamptz '{last}' < {cutoff}")
    assert orders >= 3  # they bought regularly before
    active = _value(
        con,
        f"""select count(distinct person_id) from {_purchases(con)}
            where persona in ('vip', 'regular') and bought_at >= {cutoff}""",
    )
    persons = """select count(distinct person_id) from customer_labels
        where persona in ('vip', 'regular')"""
    assert active / _value(con, persons) > 0.95


def test_regular_customers_buy_online_and_omnichannel_ones_in_both_channels(
    dataset: Path,
) -> None:
    con = _connect(dataset)
    rows = dict(
        (persona, (persons, both, store))
        for persona, persons, both, store in _rows(
            con,
            f"""select persona, count(*), count(*) filter (where shop > 0 and store > 0),
                    count(*) filter (where store > 0)
                from (
                    select person_id, any_value(persona) as persona,
                        count(*) filter (where kind = 'shop') as shop,
                        count(*) filter (where kind = 'store') as store
                    from {_purchases(con)} group by person_id
                )
                where persona in ('regular', 'omnichannel')
                group by persona""",
        )
    )
    persons, both, _ = rows["omnichannel"]
    assert persons > 50
    assert both / persons > 0.95
    persons, _, store = rows["regular"]
    assert persons > 200
    # only a duplicate store account (about 1 % of persons) brings a regular into a store
    assert store / persons < 0.03


def test_holiday_shoppers_only_buy_in_holiday_windows(dataset: Path) -> None:
    con = _connect(dataset)
    windows = " or ".join(
        f"cast(bought_at as date) between date '{first}' and date '{last}'"
        for first, last in holiday_windows(START, END)
    )
    inside, outside = _rows(
        con,
        f"""select count(*) filter (where {windows}), count(*) filter (where not ({windows}))
            from {_purchases(con)} where persona = 'holiday_shopper'""",
    )[0]
    assert inside > 100
    assert outside == 0
    everyone = _value(con, f"select avg(({windows})::int) from {_purchases(con)}")
    assert everyone < 0.5


def test_vips_have_top_decile_spend(dataset: Path) -> None:
    con = _connect(dataset)
    spend = f"""(select person_id, any_value(persona) as persona, sum(amount_eur) as spend
                 from {_purchases(con)} group by 1)"""
    threshold = _value(con, f"select quantile_cont(spend, 0.9) from {spend}")
    vip_spend = [s for (s,) in _rows(con, f"select spend from {spend} where persona = 'vip'")]
    assert len(vip_spend) > 20
    assert min(vip_spend) >= threshold


def test_discount_driven_customers_use_coupons_and_return_more(dataset: Path) -> None:
    con = _connect(dataset)
    stats = dict(
        (row[0], row[1:])
        for row in _rows(
            con,
            f"""select l.persona = 'discount_driven',
                    avg((o.coupon_code is not null)::int),
                    count(distinct r.order_id) / count(distinct o.order_id)
                from {_clean("orders")} as o
                join customer_labels as l using (customer_id)
                left join returns as r using (order_id)
                group by 1""",
        )
    )
    coupon, returned = stats[True]
    assert coupon > 0.85
    assert returned > 2 * stats[False][1]
    assert stats[False][0] < 0.25


def test_duplicate_identities_share_email_or_phone(dataset: Path) -> None:
    con = _connect(dataset)
    pairs = _rows(
        con,
        r"""
        select l.person_id, count(*),
            count(distinct lower(trim(c.email))) = 1 and count(c.email) = 2,
            count(distinct regexp_replace(c.phone, '[^0-9]', '', 'g')) = 1
                and count(c.phone) = 2,
            count(distinct c.email) = 2 or count(distinct c.phone) = 2,
            bool_and(c.customer_id in (select customer_id from orders)
                     or c.loyalty_card_id in (select loyalty_card_id from store_transactions))
        from customer_labels as l
        join (select distinct * from customers) as c using (customer_id)
        where l.is_duplicate_identity
        group by 1
        """,
    )
    assert len(pairs) > 15
    for person, accounts, same_email, same_phone, spelled_apart, active in pairs:
        assert accounts == 2, person
        assert same_email or same_phone, person
        assert spelled_apart, person
        assert active, person
    assert any(p[2] for p in pairs) and any(p[3] for p in pairs)
    # their accounts never carry a planted defect, so both stay recognisable
    planted = """select count(*) from bad_rows b join customer_labels l
        on b.table_name = 'customers' and b.primary_key = l.customer_id
        where l.is_duplicate_identity"""
    assert _value(con, planted) == 0
