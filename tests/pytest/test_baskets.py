"""Association rules (product_associations, category_associations) against mlxtend.

The rules are mined in SQL (macros/baskets/association_rules.sql); mlxtend's ``apriori``
and ``association_rules`` are the reference. Categories are compared on every basket of
the demo warehouse, with the project's default thresholds (pairs and triples). Products
are compared on a sample: the demo's products are drawn independently, so at the default
support no product pair is frequent; the test replaces the basket items of a copy of the
warehouse by the baskets of its most frequent products, mines them with dbt at a support
of two baskets, and compares.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import Warehouse, build_warehouse, table_checksum
from mlxtend.frequent_patterns import apriori, association_rules

MEASURES = ["support", "antecedent_support", "consequent_support", "confidence", "lift", "leverage"]
DEFAULT_MIN_SUPPORT = 0.001
DEFAULT_MIN_CONFIDENCE = 0.1
SAMPLE_PRODUCTS = 60


def reference_rules(items: pd.DataFrame, min_support: float, min_confidence: float) -> pd.DataFrame:
    """mlxtend's rules with one consequent and one or two antecedents, keyed like ours."""
    baskets = pd.crosstab(items["basket_id"], items["item"]).astype(bool)
    frequent = apriori(baskets, min_support=min_support, use_colnames=True, max_len=3)
    rules = association_rules(
        frequent, num_itemsets=len(baskets), metric="confidence", min_threshold=min_confidence
    )
    rules = rules[(rules["consequents"].map(len) == 1) & (rules["antecedents"].map(len) <= 2)]
    antecedents = rules["antecedents"].map(sorted)
    return pd.DataFrame(
        {
            "antecedent": antecedents.map(lambda items: items[0]),
            "second_antecedent": antecedents.map(
                lambda items: items[1] if len(items) > 1 else None
            ),
            "consequent": rules["consequents"].map(lambda items: next(iter(items))),
            **{measure: rules[measure.replace("_", " ")] for measure in MEASURES},
            "conviction": rules["conviction"].replace(np.inf, np.nan),
        }
    )


def ours(rules: pd.DataFrame, column: str) -> pd.DataFrame:
    return rules.rename(
        columns={
            f"antecedent_{column}": "antecedent",
            f"second_antecedent_{column}": "second_antecedent",
            f"consequent_{column}": "consequent",
        }
    )[["antecedent", "second_antecedent", "consequent", *MEASURES, "conviction"]]


def assert_same_rules(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    key = ["antecedent", "second_antecedent", "consequent"]
    actual = actual.fillna({"second_antecedent": ""}).sort_values(key).reset_index(drop=True)
    expected = expected.fillna({"second_antecedent": ""}).sort_values(key).reset_index(drop=True)
    assert actual[key].values.tolist() == expected[key].values.tolist()
    for measure in [*MEASURES, "conviction"]:
        np.testing.assert_allclose(
            actual[measure].astype(float),
            expected[measure].astype(float),
            rtol=1e-9,
            atol=0,
            err_msg=measure,
        )


def test_category_rules_equal_mlxtend(demo_warehouse: Warehouse) -> None:
    items = demo_warehouse.query(
        "select distinct order_id as basket_id, category as item"
        " from intermediate.int_basket_items_kept"
    )
    expected = reference_rules(items, DEFAULT_MIN_SUPPORT, DEFAULT_MIN_CONFIDENCE)
    actual = ours(demo_warehouse.query("from marts.category_associations"), "category")
    # both rule shapes are exercised: pairs and triples
    assert {1, 2} <= set(actual["second_antecedent"].notna().astype(int) + 1)
    assert_same_rules(actual, expected)


def test_returned_lines_leave_the_basket(demo_warehouse: Warehouse) -> None:
    """A product whose every line in an order was returned by the mining date is not in
    it; every other product of an order placed by then is."""
    taken_back = demo_warehouse.query(
        """
        with lines as (
            select
                order_lines.order_id,
                order_lines.product_id,
                bool_and(returns.order_line_id is not null) as every_line_returned
            from staging.stg_shop__order_lines as order_lines
            inner join intermediate.int_orders_enriched as orders
                on order_lines.order_id = orders.order_id
            cross join intermediate.int_basket_mining_inputs as mining
            left join staging.stg_shop__returns as returns
                on
                    order_lines.order_line_id = returns.order_line_id
                    and returns.returned_at < mining.mined_as_of_end_at
            where orders.ordered_at < mining.mined_as_of_end_at
            group by all
        )
        select
            lines.every_line_returned,
            count(*) as line_count,
            count(kept.order_id) as kept_count
        from lines
        left join intermediate.int_basket_items_kept as kept
            on lines.order_id = kept.order_id and lines.product_id = kept.product_id
        group by all
        """
    ).set_index("every_line_returned")
    assert taken_back.loc[True, "line_count"] > 0
    assert taken_back.loc[True, "kept_count"] == 0
    assert taken_back.loc[False, "kept_count"] == taken_back.loc[False, "line_count"]


@pytest.fixture(scope="module")
def product_sample(
    demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """A copy of the demo warehouse whose baskets hold only its most frequent products,
    their rules mined by dbt at a support of two baskets."""
    work_dir = tmp_path_factory.mktemp("baskets")
    shutil.copyfile(demo_warehouse.database, work_dir / "warehouse.duckdb")
    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        connection.execute(
            f"""
            create or replace table intermediate.int_basket_items_kept as
            with ranked as (
                select product_id
                from intermediate.int_basket_items_kept
                group by product_id
                order by count(*) desc, product_id
                limit {SAMPLE_PRODUCTS}
            )
            select * from intermediate.int_basket_items_kept
            where product_id in (select product_id from ranked)
            """
        )
        baskets = connection.execute(
            "select count(distinct order_id) from intermediate.int_basket_items_kept"
        ).fetchone()[0]
    return build_warehouse(
        demo_warehouse.raw_dir,
        work_dir,
        select="int_product_rules_mined product_associations",
        variables={"baskets.min_support": 2 / baskets - 1e-12, "baskets.min_confidence": 0.01},
    )


def test_product_rules_on_a_sample_equal_mlxtend(product_sample: Warehouse) -> None:
    items = product_sample.query(
        "select order_id as basket_id, product_id as item from intermediate.int_basket_items_kept"
    )
    baskets = items["basket_id"].nunique()
    expected = reference_rules(items, 2 / baskets - 1e-12, 0.01)
    actual = ours(product_sample.query("from marts.product_associations"), "product_id")
    assert len(actual) >= 10
    assert_same_rules(actual, expected)


MANY_CATEGORIES = 140


@pytest.fixture(scope="module")
def many_categories(
    demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Warehouse:
    """A copy of the demo warehouse whose baskets hold 2 to 6 of 140 categories (more than
    the two 63-bit masks the category rules group baskets by), mined by dbt at a support
    of two baskets."""
    work_dir = tmp_path_factory.mktemp("many_categories")
    shutil.copyfile(demo_warehouse.database, work_dir / "warehouse.duckdb")
    rng = np.random.default_rng(22)
    rows = [
        (f"b{basket:05d}", f"c{category:03d}")
        for basket in range(4000)
        for category in rng.choice(MANY_CATEGORIES, size=rng.integers(2, 7), replace=False)
    ]
    items = pd.DataFrame(rows, columns=["order_id", "category"])
    items["product_id"] = items["category"]
    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        connection.register("synthetic_items", items)
        connection.execute(
            "create or replace table intermediate.int_basket_items_kept as "
            "select order_id, product_id, category from synthetic_items"
        )
    return build_warehouse(
        demo_warehouse.raw_dir,
        work_dir,
        select="int_category_rules_mined category_associations",
        variables={"baskets.min_support": 2 / 4000 - 1e-12, "baskets.min_confidence": 0.01},
    )


def test_category_rules_beyond_the_masks_equal_mlxtend(many_categories: Warehouse) -> None:
    """Categories coded in the low mask, the high mask and beyond both (baskets mined
    one by one) give mlxtend's rules."""
    items = many_categories.query(
        "select order_id as basket_id, category as item from intermediate.int_basket_items_kept"
    )
    expected = reference_rules(items, 2 / 4000 - 1e-12, 0.01)
    actual = ours(many_categories.query("from marts.category_associations"), "category")
    codes = sorted(items["item"].unique())
    ranges = {"low": set(codes[:63]), "high": set(codes[63:126]), "lone": set(codes[126:])}
    for name, categories in ranges.items():
        assert actual["antecedent"].isin(categories).any(), name
    assert {1, 2} <= set(actual["second_antecedent"].notna().astype(int) + 1)
    assert_same_rules(actual, expected)


HELD = {"int_basket_items_kept", "int_product_rules_mined", "int_category_rules_mined"}
BASKET_MODELS = "int_as_of_date_resolved int_basket_mining_inputs+"


def _held(warehouse: Warehouse) -> set[str]:
    """The held tables the run kept as they were (the materialization's log line)."""
    return set(re.findall(r'Held "[^"]+"\."intermediate"\."(\w+)"', warehouse.run.output))


def _checksums(warehouse: Warehouse) -> dict[str, str]:
    with duckdb.connect(str(warehouse.database), read_only=True) as connection:
        return {name: table_checksum(connection, f"intermediate.{name}") for name in sorted(HELD)}


def test_the_rules_are_mined_once_a_week_and_held_until_their_baskets_change(
    demo_warehouse: Warehouse, tmp_path: Path
) -> None:
    """The basket items and the rules are built again when the mining date, a row they
    read or a threshold changes, and otherwise kept; kept or built, their rows are the
    ones a build on the same inputs gives."""
    shutil.copyfile(demo_warehouse.database, tmp_path / "warehouse.duckdb")
    mining = demo_warehouse.query("from intermediate.int_basket_mining_inputs")
    as_of, mined = mining["as_of_date"][0].date(), mining["mined_as_of_date"][0].date()
    # the default refit period: the latest Monday on or before as_of_date
    assert mined.isoweekday() == 1 and 0 <= (as_of - mined).days < 7
    built = _checksums(demo_warehouse)

    def run(as_of_date: dt.date, **variables: float) -> Warehouse:
        return build_warehouse(
            demo_warehouse.raw_dir,
            tmp_path,
            select=BASKET_MODELS,
            data_tests=False,
            variables={"as_of_date": str(as_of_date), **variables},
        )

    # nothing changed, and then another day of the same refit period: all three kept
    same = run(as_of)
    assert _held(same) == HELD and _checksums(same) == built
    assert _held(run(mined)) == HELD

    # a threshold changed: the rules are mined again from the kept baskets
    stricter = run(mined, **{"baskets.min_confidence": 0.3})
    assert _held(stricter) == {"int_basket_items_kept"}
    confidences = stricter.query("select confidence from marts.category_associations")
    assert len(confidences) > 0 and confidences["confidence"].min() >= 0.3

    # the day before the mining date belongs to the week before: everything is mined again
    earlier = run(mined - dt.timedelta(days=1))
    assert _held(earlier) == set()
    assert set(earlier.query("from marts.category_associations")["mined_as_of_date"]) == {
        pd.Timestamp(mined - dt.timedelta(days=7))
    }

    # back to as_of_date: mined again, to the very rows of the first build
    back = run(as_of)
    assert _held(back) == set() and _checksums(back) == built

    # a row dated before the mining date changes (a line's product taken out of an
    # order): the baskets and the rules are built again, without it
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as connection:
        order_id, product_id = connection.execute(
            """
            select order_id, product_id
            from intermediate.int_basket_items_kept
            where order_id in (
                select order_id from intermediate.int_basket_items_kept
                group by order_id having count(*) > 1
            )
            order by order_id, product_id
            limit 1
            """
        ).fetchone()
        connection.execute(
            "delete from staging.base_shop__order_lines where order_id = ? and product_id = ?",
            [order_id, product_id],
        )
    changed = run(as_of)
    assert _held(changed) == set()
    items = changed.query(
        f"select product_id from intermediate.int_basket_items_kept where order_id = '{order_id}'"
    )
    assert len(items) >= 1 and product_id not in set(items["product_id"])
    assert _held(run(as_of)) == HELD
