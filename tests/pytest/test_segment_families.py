"""The segment registry end to end: planted truth, independent references, invariants.

Reads the registry (one file per family, models/marts/segments/families/<family>.yml)
and checks the built marts against it; one extra build runs on a copy of the project
whose family files were edited and extended as CONTRIBUTING.md describes, and quick
compiles show that a malformed family file stops the run naming the file.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import Warehouse, build_warehouse

from segment_warehouse.documentation import registry
from segment_warehouse.documentation.registry import load_project_vars, load_registry
from segment_warehouse.paths import PROJECT_DIR
from segment_warehouse.pipeline.dbt_runner import DbtRun, dbt_command

pytestmark = pytest.mark.dbt

SEEDS_DIR = PROJECT_DIR / "seeds"
FALLBACK_RULE = "fallback: no rule holds"
PLACEHOLDER = re.compile(r"\{(var:)?([a-z_][a-z0-9_.]*)\}")
RISING_STAR_RULE = "spend_percentile >= 0.8 and days_since_first_order < 365"


# ---- the registry as written in its family files -----------------------------------------


@cache
def _project_vars() -> dict[str, Any]:
    """The vars block of dbt_project.yml as plain yaml (Jinja in it left as text)."""
    return load_project_vars()


@cache
def _shipped_registry() -> list[dict[str, Any]]:
    return load_registry()


def _registry() -> list[dict[str, Any]]:
    """A fresh copy of the segment registry (families in their order), safe to modify."""
    return copy.deepcopy(_shipped_registry())


def _family(registry: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """One family of a registry list by name."""
    return next(family for family in registry if family["family"] == name)


def _params(name: str) -> dict[str, Any]:
    """The default params of a shipped family."""
    return _family(_registry(), name).get("params") or {}


def _render_rule(rule: str, family: dict[str, Any]) -> str:
    """A registry rule with its ``{param}`` and ``{var:x}`` placeholders filled in with
    the defaults, on one line."""
    params = family.get("params") or {}
    rendered = PLACEHOLDER.sub(
        lambda match: str(_project_vars()[match[2]] if match[1] else params[match[2]]),
        rule.strip(),
    )
    assert "{" not in rendered, f"unrendered placeholder left in {rendered!r}"
    return rendered.replace("\n", " ")


def _rule_segments(family: dict[str, Any]) -> list[dict[str, Any]]:
    """The family's segments with a rule, in priority order."""
    segments = [segment for segment in family["segments"] if not segment.get("fallback")]
    return sorted(segments, key=lambda segment: segment["priority"])


def _fallback(family: dict[str, Any]) -> dict[str, Any]:
    """The family's one fallback segment."""
    (fallback,) = [segment for segment in family["segments"] if segment.get("fallback")]
    return fallback


def _fallback_priority(family: dict[str, Any]) -> int:
    """The fallback's priority: its own, or one after the last rule's (as the macro sets it)."""
    priorities = [segment["priority"] for segment in _rule_segments(family)]
    return _fallback(family).get("priority", max(priorities, default=0) + 1)


def _share_milli(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    """numerator / denominator in thousandths, rounded half up in exact integer arithmetic.

    The same rounding as the share_value macro (round to three decimals); only for
    positive denominators.
    """
    numerator = numerator.astype("int64")
    denominator = denominator.astype("int64")
    assert (denominator > 0).all()
    return (2000 * numerator + denominator) // (2 * denominator)


def _to_milli(shares: pd.Series) -> pd.Series:
    """Three-decimal shares as integer thousandths."""
    return (shares.astype(float) * 1000).round().astype("int64")


def _precision_recall(predicted: pd.Series, actual: pd.Series) -> tuple[float, float, str]:
    """Precision, recall and a readable summary of a predicted against a planted flag."""
    true_positives = int((predicted & actual).sum())
    precision = true_positives / max(int(predicted.sum()), 1)
    recall = true_positives / max(int(actual.sum()), 1)
    summary = (
        f"precision={precision:.3f} recall={recall:.3f} "
        f"(predicted={int(predicted.sum())}, planted={int(actual.sum())}, "
        f"both={true_positives})"
    )
    return precision, recall, summary


# ---- 1. planted ground truth -------------------------------------------------------------


@pytest.mark.parametrize(
    ("truth_column", "segment_column", "segment"),
    [
        ("is_vip", "vip_segment", "VIP"),
        ("is_discount_driven", "discount_segment", "Cherry picker"),
        ("is_holiday_shopper", "occasion_segment", "Holiday shopper"),
    ],
)
def test_planted_behaviours_are_found_with_high_precision_and_recall(
    demo_warehouse: Warehouse,
    read_truth: Callable[[str], pd.DataFrame],
    truth_column: str,
    segment_column: str,
    segment: str,
) -> None:
    labels = read_truth("customer_labels")
    labels = labels[~labels["is_duplicate_identity"]]
    segments = demo_warehouse.query(
        f"select customer_id, {segment_column} from marts.customer_segments"
    )
    joined = labels.merge(segments, on="customer_id", how="inner")
    assert len(joined) >= 0.9 * len(labels), "most planted customers must reach the marts"
    assert joined[truth_column].sum() >= 30, "too few planted customers to measure"

    precision, recall, summary = _precision_recall(
        joined[segment_column] == segment, joined[truth_column].astype(bool)
    )
    assert precision >= 0.9 and recall >= 0.9, f"{segment_column} = '{segment}': {summary}"


# ---- 2. independent pandas reference -----------------------------------------------------


def _occasion_dates(group: str) -> pd.DatetimeIndex:
    """Every day inside a window of the occasion group in seeds/occasion_calendar.csv."""
    calendar = pd.read_csv(
        SEEDS_DIR / "occasion_calendar.csv", parse_dates=["start_date", "end_date"]
    )
    windows = calendar[calendar["occasion_group"] == group]
    assert len(windows) > 0, group
    days = [pd.date_range(row.start_date, row.end_date) for row in windows.itertuples()]
    return days[0].append(days[1:]).unique()


def _reference_order_metrics(warehouse: Warehouse) -> pd.DataFrame:
    """Per customer of dim_customers who may be profiled: order counts by channel group,
    occasion and discount (objectors to profiling are in no segment, docs/privacy.md).

    Computed from marts.fct_orders and the seed CSVs only, for orders up to as_of_date.
    """
    customers = warehouse.query(
        "select customer_id, as_of_date from marts.dim_customers "
        "where not has_objected_to_profiling"
    )
    as_of = pd.Timestamp(customers["as_of_date"].max())
    orders = warehouse.query(
        "select customer_id, channel, coupon_code, discount_amount, order_date "
        "from marts.fct_orders"
    )
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    orders = orders[orders["order_date"] <= as_of]

    channel_codes = pd.read_csv(SEEDS_DIR / "channel_codes.csv")
    channel_groups = dict(
        zip(
            channel_codes["channel_alias"].str.lower(),
            channel_codes["channel_group"],
            strict=True,
        )
    )
    channel_group = orders["channel"].str.strip().str.lower().map(channel_groups)
    flags = pd.DataFrame(
        {
            "customer_id": orders["customer_id"],
            "order_count": 1,
            "channel_known_order_count": orders["channel"].notna().astype(int),
            "online_order_count": (channel_group == "online").astype(int),
            "store_order_count": (channel_group == "offline").astype(int),
            "holiday_order_count": orders["order_date"].isin(_occasion_dates("holiday")),
            "summer_order_count": orders["order_date"].isin(_occasion_dates("summer")),
            "discounted_order_count": (orders["discount_amount"].astype(float) > 0)
            | orders["coupon_code"].notna(),
        }
    )
    per_customer = flags.groupby("customer_id").sum().astype("int64")
    return customers.set_index("customer_id")[[]].join(per_customer).fillna(0).astype("int64")


def _reference_omnichannel(metrics: pd.DataFrame) -> pd.Series:
    """The omnichannel family, written out from its description."""
    online = metrics["online_order_count"] > 0
    store = metrics["store_order_count"] > 0
    return pd.Series(
        np.select(
            [
                online & store,
                store,
                online,
                metrics["channel_known_order_count"] > 0,
                metrics["order_count"] > 0,
            ],
            ["Omnichannel", "Store only", "Online only", "Other channels only", "Unknown"],
            default="No purchase",
        ),
        index=metrics.index,
    )


def _reference_occasion(metrics: pd.DataFrame) -> pd.Series:
    """The occasion family: enough orders and a large enough share in one occasion."""
    params = _params("occasion")
    purchased = metrics["order_count"] > 0
    enough_orders = metrics["order_count"] >= params["min_orders"]
    min_share_milli = round(params["min_order_share"] * 1000)
    orders = metrics["order_count"].clip(lower=1)
    holiday = _share_milli(metrics["holiday_order_count"], orders) >= min_share_milli
    summer = _share_milli(metrics["summer_order_count"], orders) >= min_share_milli
    return pd.Series(
        np.select(
            [enough_orders & holiday, enough_orders & summer, purchased],
            ["Holiday shopper", "Summer shopper", "Year-round shopper"],
            default="No purchase",
        ),
        index=metrics.index,
    )


@pytest.fixture(scope="module")
def reference_metrics(demo_warehouse: Warehouse) -> pd.DataFrame:
    """Independent per-customer order metrics of the demo warehouse."""
    return _reference_order_metrics(demo_warehouse)


def _mismatches(expected: pd.Series, actual: pd.Series) -> pd.DataFrame:
    """Rows where two per-customer series differ, side by side."""
    compared = pd.DataFrame({"expected": expected, "actual": actual})
    return compared[compared["expected"] != compared["actual"]]


def test_omnichannel_segment_agrees_with_pandas_reference(
    demo_warehouse: Warehouse, reference_metrics: pd.DataFrame
) -> None:
    segments = demo_warehouse.query(
        "select customer_id, omnichannel_segment from marts.customer_segments"
    ).set_index("customer_id")
    assert set(segments.index) == set(reference_metrics.index)

    expected = _reference_omnichannel(reference_metrics)
    mismatches = _mismatches(expected, segments["omnichannel_segment"])
    assert mismatches.empty, f"{len(mismatches)} mismatches:\n{mismatches.head(10)}"
    # every branch of the family is exercised, so agreement means something (Unknown,
    # purchases without any recorded channel, only where the data has them)
    assert set(expected) - {"Unknown"} == {
        "Omnichannel",
        "Store only",
        "Online only",
        "Other channels only",
        "No purchase",
    }


def test_occasion_shares_and_segment_agree_with_pandas_reference(
    demo_warehouse: Warehouse, reference_metrics: pd.DataFrame
) -> None:
    features = demo_warehouse.query(
        "select customer_id, order_count, holiday_order_share, summer_order_share "
        "from intermediate.int_segment_features"
    ).set_index("customer_id")
    segments = demo_warehouse.query(
        "select customer_id, occasion_segment from marts.customer_segments"
    ).set_index("customer_id")

    purchasers = reference_metrics[reference_metrics["order_count"] > 0]
    assert (features.loc[purchasers.index, "order_count"] == purchasers["order_count"]).all()
    for occasion in ["holiday", "summer"]:
        expected = _share_milli(purchasers[f"{occasion}_order_count"], purchasers["order_count"])
        actual = _to_milli(features.loc[purchasers.index, f"{occasion}_order_share"])
        mismatches = _mismatches(expected, actual)
        assert mismatches.empty, f"{occasion}_order_share (thousandths):\n{mismatches.head(10)}"
    prospects = features.index.difference(purchasers.index)
    assert features.loc[prospects, "holiday_order_share"].isna().all()

    expected_segments = _reference_occasion(reference_metrics)
    mismatches = _mismatches(expected_segments, segments["occasion_segment"])
    assert mismatches.empty, f"{len(mismatches)} mismatches:\n{mismatches.head(10)}"
    assert (expected_segments == "Holiday shopper").sum() >= 50


def test_discount_order_share_agrees_with_pandas_reference(
    demo_warehouse: Warehouse, reference_metrics: pd.DataFrame
) -> None:
    features = demo_warehouse.query(
        "select customer_id, discount_order_share from intermediate.int_segment_features"
    ).set_index("customer_id")
    purchasers = reference_metrics[reference_metrics["order_count"] > 0]
    expected = _share_milli(purchasers["discounted_order_count"], purchasers["order_count"])
    actual = _to_milli(features.loc[purchasers.index, "discount_order_share"])
    mismatches = _mismatches(expected, actual)
    assert mismatches.empty, f"{len(mismatches)} mismatches (thousandths):\n{mismatches.head(10)}"
    # the shares span the range, so the comparison covers more than one value
    assert expected.min() == 0 and expected.max() == 1000
    prospects = features.index.difference(purchasers.index)
    assert features.loc[prospects, "discount_order_share"].isna().all()


# ---- 3. invariants -----------------------------------------------------------------------


def test_assignments_have_one_row_per_customer_and_family(demo_warehouse: Warehouse) -> None:
    families = [family["family"] for family in _registry()]
    families.append("micro_segment")
    assignments = demo_warehouse.query(
        "select customer_id, segment_family, segment from marts.customer_segment_assignments"
    )
    customers = demo_warehouse.query(
        "select customer_id from marts.dim_customers where not has_objected_to_profiling"
    )

    assert set(assignments["segment_family"]) == set(families)
    assert set(assignments["customer_id"]) == set(customers["customer_id"])
    per_pair = assignments.groupby(["customer_id", "segment_family"]).size()
    assert (per_pair == 1).all(), per_pair[per_pair != 1].head()
    assert len(assignments) == len(customers) * len(families)
    assert assignments["segment"].notna().all()

    # the long table says what the wide one says
    columns = {family["family"]: family["column"] for family in _registry()}
    columns["micro_segment"] = "micro_segment"
    wide = demo_warehouse.query("select * from marts.customer_segments").set_index("customer_id")
    long = assignments.pivot(index="customer_id", columns="segment_family", values="segment")
    for family, column in columns.items():
        mismatches = _mismatches(wide[column], long.loc[wide.index, family])
        assert mismatches.empty, f"{family}:\n{mismatches.head()}"


def test_rule_fired_is_the_registry_rule_with_vars_rendered(demo_warehouse: Warehouse) -> None:
    assignments = demo_warehouse.query(
        "select segment_family, segment, rule_fired, rule_priority, count(*) as customers "
        "from marts.customer_segment_assignments "
        "where segment_family <> 'micro_segment' "
        "group by all"
    )
    for family in _registry():
        rows = assignments[assignments["segment_family"] == family["family"]]
        rules = {
            segment["priority"]: segment
            for segment in _rule_segments(family)
            if segment.get("status", "active") == "active"
        }
        fallback_priority = _fallback_priority(family)
        for row in rows.itertuples():
            where = f"{family['family']} priority {row.rule_priority}"
            if row.rule_priority == fallback_priority:
                assert row.rule_fired == FALLBACK_RULE, where
                assert row.segment == _fallback(family)["segment"], where
                continue
            assert row.rule_priority in rules, f"{where}: not an active rule"
            segment = rules[row.rule_priority]
            assert row.rule_fired == _render_rule(segment["rule"], family), where
            if not segment.get("value"):
                assert row.segment == segment["segment"], where
    # the params really were rendered into the rules: spot-check one family literally
    vip = _family(_registry(), "vip")
    vip_rule = _render_rule(vip["segments"][0]["rule"], vip)
    params = _params("vip")
    assert vip_rule == (
        f"spend_percentile >= {params['min_spend_percentile']} "
        f"and frequency_percentile >= {params['min_frequency_percentile']} "
        f"and days_since_last_order < {params['max_days_since_last_order']}"
    )
    fired = assignments.loc[assignments["segment"] == "VIP", "rule_fired"]
    assert set(fired) == {vip_rule}


def test_each_assignment_is_the_first_registry_rule_that_holds(
    demo_warehouse: Warehouse,
) -> None:
    """Evaluate the rendered rules in DuckDB, in priority order, over the features."""
    for family in _registry():
        active = [
            segment
            for segment in _rule_segments(family)
            if segment.get("status", "active") == "active"
        ]
        first_rule_that_holds = " ".join(
            f"when {_render_rule(segment['rule'], family)} then {segment['priority']}"
            for segment in active
        )
        wrong = demo_warehouse.query(
            f"""
            select features.customer_id, assignments.rule_priority,
                case {first_rule_that_holds} else {_fallback_priority(family)} end
                    as expected_priority
            from intermediate.int_segment_features as features
            inner join marts.customer_segment_assignments as assignments
                on features.customer_id = assignments.customer_id
                and assignments.segment_family = '{family["family"]}'
            where assignments.rule_priority is distinct from
                case {first_rule_that_holds} else {_fallback_priority(family)} end
            """
        )
        assert wrong.empty, f"{family['family']}:\n{wrong.head()}"


def test_vip_reasons_quote_the_features_that_made_them_vip(demo_warehouse: Warehouse) -> None:
    vip_family = _family(_registry(), "vip")
    rows = demo_warehouse.query(
        """
        select assignments.reason, features.*
        from marts.customer_segment_assignments as assignments
        inner join intermediate.int_segment_features as features
            on assignments.customer_id = features.customer_id
        where assignments.segment_family = 'vip' and assignments.segment = 'VIP'
        """
    )
    assert len(rows) >= 30
    params = _params("vip")
    for row in rows.to_dict("records"):
        pairs = dict(part.split("=", 1) for part in row["reason"].split(", "))
        assert list(pairs) == vip_family["metrics"], row["reason"]
        for metric, text in pairs.items():
            assert float(text) == pytest.approx(float(row[metric]), abs=1e-9), (metric, row)
        # the quoted values justify the segment
        assert float(pairs["spend_percentile"]) >= params["min_spend_percentile"]
        assert float(pairs["frequency_percentile"]) >= params["min_frequency_percentile"]
        assert int(pairs["days_since_last_order"]) < params["max_days_since_last_order"]


def test_segment_summary_adds_up_to_the_customer_base(demo_warehouse: Warehouse) -> None:
    summary = demo_warehouse.query("select * from marts.segment_summary")
    customers = demo_warehouse.query(
        "select customer_id, net_spend, gross_spend, order_count, has_objected_to_profiling "
        "from marts.dim_customers"
    ).set_index("customer_id")
    total_revenue = customers["net_spend"].astype(float).sum()

    families = [family["family"] for family in _registry()]
    assert set(summary["segment_family"]) == {*families, "micro_segment"}
    per_family = summary.groupby("segment_family").agg(
        customer_count=("customer_count", "sum"),
        revenue=("revenue", lambda revenue: revenue.astype(float).sum()),
        customer_share=("customer_share", "sum"),
        revenue_share=("revenue_share", "sum"),
    )
    assert (per_family["customer_count"] == len(customers)).all(), per_family
    for family, row in per_family.iterrows():
        assert row["revenue"] == pytest.approx(total_revenue, abs=0.01), family
        assert row["customer_share"] == pytest.approx(1.0), family
        assert row["revenue_share"] == pytest.approx(1.0), family

    # each row recomputed from the wide mart and dim_customers
    columns = {family["family"]: family["column"] for family in _registry()}
    columns["micro_segment"] = "micro_segment"
    wide = demo_warehouse.query("select * from marts.customer_segments").set_index("customer_id")
    joined = wide.join(customers.astype({"net_spend": float, "gross_spend": float}))
    # objectors to profiling are in no segment: each family counts them as 'Not profiled'
    objectors = customers[customers["has_objected_to_profiling"]].astype(
        {"net_spend": float, "gross_spend": float}
    )
    assert len(objectors) > 0 and not set(objectors.index) & set(wide.index)
    for column in columns.values():
        objectors[column] = "Not profiled"
    joined = pd.concat([joined, objectors[joined.columns.intersection(objectors.columns)]])
    for family, column in columns.items():
        expected = joined.groupby(column).agg(
            customer_count=("order_count", "size"),
            revenue=("net_spend", "sum"),
            gross_spend=("gross_spend", "sum"),
            order_count=("order_count", "sum"),
        )
        actual = summary[summary["segment_family"] == family].set_index("segment")
        assert set(actual.index) == set(expected.index), family
        actual = actual.loc[expected.index]
        assert (actual["customer_count"] == expected["customer_count"]).all(), family
        np.testing.assert_allclose(
            actual["revenue"].astype(float), expected["revenue"], atol=0.01, err_msg=family
        )
        with_orders = expected["order_count"] > 0
        np.testing.assert_allclose(
            actual.loc[with_orders, "average_order_value"].astype(float),
            (expected["gross_spend"] / expected["order_count"])[with_orders],
            atol=0.0001,
            err_msg=family,
        )
        assert actual.loc[~with_orders, "average_order_value"].isna().all(), family


def test_micro_segments_respect_the_minimum_size(demo_warehouse: Warehouse) -> None:
    project_vars = _project_vars()
    min_size = project_vars["segments.micro_min_size"]
    cell_columns = [
        _family(_registry(), name)["column"] for name in project_vars["segments.micro_families"]
    ]
    segments = demo_warehouse.query(
        f"select customer_id, micro_segment, {', '.join(cell_columns)} from marts.customer_segments"
    )
    published = segments["micro_segment"].value_counts()
    assert published.min() >= min_size, published.tail()

    # the cells, and which of them must be merged, recomputed from the family columns
    segments["cell"] = segments[cell_columns].agg(" | ".join, axis=1)
    cells = segments.groupby("cell").size().rename("size").reset_index()
    cells = cells.sort_values(["size", "cell"]).reset_index(drop=True)
    has_small_cell = bool((cells["size"] < min_size).any())
    smaller_cells_size = cells["size"].cumsum().shift(fill_value=0)
    cells["merged"] = (cells["size"] < min_size) | (
        has_small_cell & (smaller_cells_size < min_size)
    )
    expected = segments["cell"].map(
        dict(zip(cells["cell"], np.where(cells["merged"], "Other", cells["cell"]), strict=True))
    )
    assert (segments["micro_segment"] == expected).all()
    assert has_small_cell, "the demo data should have cells below the minimum"
    assert published["Other"] >= min_size


# ---- 3b. missing input is Unknown, never a guessed label ---------------------------------


@pytest.fixture(scope="module")
def coarse_warehouse(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo data with a coarse shop: its order timestamps are dates only (midnight),
    and it records neither discounts (order, coupon, line) nor channels. The store
    transactions keep their times, discounts and the store channel."""
    work_dir = tmp_path_factory.mktemp("coarse_shop")
    raw_dir = work_dir / "raw"
    shutil.copytree(demo_dataset / "raw", raw_dir)
    orders = pd.read_parquet(raw_dir / "orders.parquet")
    orders["ordered_at"] = orders["ordered_at"].str.slice(0, 10)
    for column in ["discount_amount", "coupon_code", "channel"]:
        orders[column] = None
    orders.to_parquet(raw_dir / "orders.parquet", index=False)
    lines = pd.read_parquet(raw_dir / "order_lines.parquet")
    lines["discount_amount"] = None
    lines.to_parquet(raw_dir / "order_lines.parquet", index=False)
    return build_warehouse(raw_dir, work_dir / "build", data_tests=False)


def test_coarse_shop_input_makes_its_customers_unknown_not_guessed(
    coarse_warehouse: Warehouse,
) -> None:
    assert coarse_warehouse.run.success, coarse_warehouse.run.output[-5000:]
    rows = coarse_warehouse.query(
        """
        select
            segments.daypart_segment,
            segments.discount_segment,
            segments.channel_segment,
            segments.omnichannel_segment,
            features.has_purchased,
            features.store_order_count,
            features.order_count,
            features.timed_order_count
        from marts.customer_segments as segments
        inner join intermediate.int_segment_features as features
            on segments.customer_id = features.customer_id
        """
    )
    # planted: customers who bought only in the shop have no usable time, discount or
    # channel on any purchase
    shop_only = rows[rows["has_purchased"] & (rows["store_order_count"] == 0)]
    assert len(shop_only) >= 100
    for column in ["daypart_segment", "discount_segment", "channel_segment"]:
        assert (shop_only[column] == "Unknown").all(), shop_only[column].value_counts()
    assert (shop_only["omnichannel_segment"] == "Unknown").all()
    # never the old guesses: midnight is not Night, missing discounts are not full price
    assert not (shop_only["daypart_segment"] == "Night buyer").any()
    assert not (shop_only["discount_segment"] == "Full-price loyalist").any()
    assert not (shop_only["omnichannel_segment"] == "Other channels only").any()
    # store buyers keep their labels: the timed, discounted store source still counts
    store_buyers = rows[rows["store_order_count"] > 0]
    assert len(store_buyers) >= 100
    assert (store_buyers["timed_order_count"] == store_buyers["store_order_count"]).all()
    assert not (store_buyers["daypart_segment"] == "Unknown").any()
    assert not (store_buyers["discount_segment"] == "Unknown").any()
    assert set(store_buyers["omnichannel_segment"]) <= {"Store only", "Omnichannel"}


# ---- 4. extending the registry: family files only ---------------------------------------

# A new family, written as CONTRIBUTING.md tells: one family file over features that
# int_segment_features already has, its column in the customer_segments contract, then
# `make registry-docs`. Nothing else changes (dbt_project.yml least of all).
RETURNS_FAMILY = {
    "name": "segment_family_returns",
    "label": "Segment family: returns",
    "type": "analysis",
    "maturity": "low",
    "description": "How often the customer's orders are refunded.",
    "owner": {"name": "customer-care"},
    "depends_on": ["ref('customer_segments')"],
    "config": {
        "meta": {
            "segment_family": {
                "family": "returns",
                "column": "returns_segment",
                "order": 100,
                "group": "behaviour",
                "metrics": ["refunded_order_share", "order_count"],
                "params": {"min_orders": 2, "min_refunded_order_share": 0.3},
                "segments": [
                    {
                        "segment": "Frequent returner",
                        "priority": 1,
                        "rule": "order_count >= {min_orders} "
                        "and refunded_order_share >= {min_refunded_order_share}",
                        "description": "At least min_orders purchases, min_refunded_order_share "
                        "of them refunded.",
                    },
                    {
                        "segment": "Rarely returns",
                        "priority": 2,
                        "rule": "has_purchased",
                        "description": "Every other purchaser.",
                    },
                    {"segment": "No purchase", "fallback": True, "description": "No purchase yet."},
                ],
            }
        }
    },
}
RETURNS_RULE = "order_count >= 2 and refunded_order_share >= 0.3"


def _copy_project(destination: Path) -> Path:
    """A copy of the dbt project to edit family files in (no artifacts, no pytest files)."""
    ignore = shutil.ignore_patterns("target", "logs", "pytest", "__pycache__", "*.duckdb*")
    destination.mkdir(parents=True, exist_ok=True)
    for name in ["dbt_project.yml", "docs", "macros", "models", "seeds", "tests"]:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=ignore)
        else:
            shutil.copy2(source, destination / name)
    return destination


def _family_path(project: Path, name: str) -> Path:
    return project / registry.FAMILIES_DIR / f"{name}.yml"


def _edit_family(project: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    """Load a family file of the copy, let ``edit`` change its family, write it back."""
    path = _family_path(project, name)
    properties = yaml.safe_load(path.read_text())
    edit(properties["exposures"][0]["config"]["meta"]["segment_family"])
    path.write_text(yaml.safe_dump(properties, sort_keys=False))


def _edit_audience(project: Path, name: str, segments: dict[str, list[str]]) -> Path:
    """Point an audience file of the copy at other segments; return the file."""
    path = project / "models" / "marts" / "activation" / "audiences" / f"{name}.yml"
    properties = yaml.safe_load(path.read_text())
    properties["exposures"][0]["config"]["meta"]["audience"]["segments"] = segments
    path.write_text(yaml.safe_dump(properties, sort_keys=False))
    return path


def _regenerate(project: Path) -> None:
    """`make registry-docs` on the copy."""
    registry.main(["--project-dir", str(project), "--write", str(project / "docs" / "segments.md")])


def _run_dbt_in(project: Path, args: list[str], work_dir: Path, env: dict[str, str]) -> DbtRun:
    """``dbt <args>`` on the test target of a project copy, reporting like run_dbt."""
    target_path = work_dir / "target"
    command = dbt_command(args, target="test", target_path=target_path, log_path=work_dir / "logs")
    command[command.index("--project-dir") + 1] = str(project)
    completed = subprocess.run(
        command,
        cwd=project,
        env={**os.environ, "DBT_USE_COLORS": "false", **env},
        capture_output=True,
        text=True,
        check=False,
    )
    statuses: dict[str, str] = {}
    results_file = target_path / "run_results.json"
    if results_file.exists():
        for node_result in json.loads(results_file.read_text())["results"]:
            statuses[node_result["unique_id"].split(".")[2]] = node_result["status"]
    return DbtRun(
        success=completed.returncode == 0,
        statuses=statuses,
        output=completed.stdout + completed.stderr,
    )


def _extend_vip(vip: dict[str, Any]) -> None:
    """Retire 'Lapsed VIP' and add 'Rising star' after the last rule."""
    lapsed = next(segment for segment in vip["segments"] if segment["segment"] == "Lapsed VIP")
    lapsed["status"] = "retired"
    last_priority = max(segment["priority"] for segment in _rule_segments(vip))
    rising_star = {
        "segment": "Rising star",
        "priority": last_priority + 1,
        "rule": RISING_STAR_RULE,
        "description": "A top-fifth spender whose first purchase is less than a year old.",
        "status": "active",
    }
    # insert before the fallback, as a person editing the family file would
    vip["segments"].insert(len(vip["segments"]) - 1, rising_star)


def _add_returns_family(project: Path) -> None:
    """The new family's file and its column in the customer_segments contract."""
    family_file = _family_path(project, "returns")
    family_file.write_text(
        yaml.safe_dump({"version": 2, "exposures": [RETURNS_FAMILY]}, sort_keys=False)
    )
    models_path = project / "models" / "marts" / "segments" / "_segments__models.yml"
    models = yaml.safe_load(models_path.read_text())
    (customer_segments,) = [m for m in models["models"] if m["name"] == "customer_segments"]
    names = [column["name"] for column in customer_segments["columns"]]
    customer_segments["columns"].insert(
        names.index("omnichannel_segment") + 1,
        {
            "name": "returns_segment",
            "description": "{{ doc('segment_family_returns') }}",
            "data_type": "varchar",
            "data_tests": [{"segment_family_values": {"arguments": {"family": "returns"}}}],
        },
    )
    models_path.write_text(yaml.safe_dump(models, sort_keys=False, allow_unicode=True))


@pytest.fixture(scope="module")
def extended_warehouse(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The demo data built on a project copy whose registry was changed in family files
    only: vip gains a segment and retires one, and a new family is added.

    dbt unit tests are left out: they pin the shipped registry's rules at their
    boundaries (e.g. the VIP fallback's priority 3), which a changed registry rightly
    changes. Every generated data test runs.
    """
    work_dir = tmp_path_factory.mktemp("extended_registry")
    project = _copy_project(work_dir / "project")
    _edit_family(project, "vip", _extend_vip)
    _add_returns_family(project)
    _regenerate(project)
    # an audience that selected the retired segment stops the run (see
    # test_an_audience_naming_a_retired_segment_stops_the_run); it moves to the new one
    _edit_audience(project, "lapsed_vips_email", {"vip": ["Rising star"]})
    database = work_dir / "warehouse.duckdb"
    run = _run_dbt_in(
        project,
        ["build", "--exclude", "test_type:unit"],
        work_dir,
        env={
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(demo_dataset / "raw"),
            "SEGMENT_WAREHOUSE_TEST_DB": str(database),
        },
    )
    return Warehouse(database=database, raw_dir=demo_dataset / "raw", run=run)


def test_an_audience_naming_a_retired_segment_stops_the_run(
    demo_dataset: Path, tmp_path: Path
) -> None:
    project = _copy_project(tmp_path / "project")
    _edit_family(project, "vip", _extend_vip)
    _regenerate(project)
    run = _run_dbt_in(
        project,
        ["compile", "--select", "audience_registry"],
        tmp_path,
        env={
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(demo_dataset / "raw"),
            "SEGMENT_WAREHOUSE_TEST_DB": str(tmp_path / "warehouse.duckdb"),
        },
    )
    assert not run.success
    assert (
        "Audience (models/marts/activation/audiences/lapsed_vips_email.yml): 'Lapsed VIP' is "
        "not an active segment of family 'vip'" in run.output
    )


def _status(statuses: dict[str, str], prefix: str) -> str:
    """The status of the one node whose name starts with prefix."""
    matches = {name: status for name, status in statuses.items() if name.startswith(prefix)}
    assert len(matches) == 1, f"{prefix}: {matches}"
    return next(iter(matches.values()))


def test_extended_registry_builds_and_its_generated_tests_pass(
    extended_warehouse: Warehouse,
) -> None:
    run = extended_warehouse.run
    assert run.success, run.output[-5000:]
    assert not run.failed_nodes()
    assert _status(run.statuses, "segment_registry_holds_customer_segment_assignments") == "pass"
    assert _status(run.statuses, "segment_family_values_customer_segments_vip_segment") == "pass"
    assert (
        _status(run.statuses, "segment_family_values_customer_segments_returns_segment") == "pass"
    )
    assert _status(run.statuses, "registry_segments_populated_segment_summary") == "pass"


def test_new_family_from_one_file_assigns_every_customer_by_its_rules(
    extended_warehouse: Warehouse, demo_warehouse: Warehouse
) -> None:
    rows = extended_warehouse.query(
        f"""
        select
            segments.customer_id,
            segments.returns_segment,
            features.has_purchased,
            coalesce({RETURNS_RULE}, false) as returner_rule_holds
        from marts.customer_segments as segments
        inner join intermediate.int_segment_features as features
            on segments.customer_id = features.customer_id
        """
    ).set_index("customer_id")
    expected = np.select(
        [rows["returner_rule_holds"], rows["has_purchased"]],
        ["Frequent returner", "Rarely returns"],
        default="No purchase",
    )
    assert (rows["returns_segment"] == expected).all()
    assert set(rows["returns_segment"]) == {"Frequent returner", "Rarely returns", "No purchase"}
    # the new column sits where the contract puts it; the shipped columns keep their order
    columns = list(extended_warehouse.query("select * from marts.customer_segments limit 0"))
    shipped = list(demo_warehouse.query("select * from marts.customer_segments limit 0"))
    assert columns == [
        *shipped[: shipped.index("omnichannel_segment") + 1],
        "returns_segment",
        *shipped[shipped.index("omnichannel_segment") + 1 :],
    ]
    assignments = extended_warehouse.query(
        "select segment, rule_fired, reason from marts.customer_segment_assignments "
        "where segment_family = 'returns' and segment = 'Frequent returner'"
    )
    assert set(assignments["rule_fired"]) == {RETURNS_RULE}
    assert assignments["reason"].str.startswith("refunded_order_share=").all()


def test_params_override_per_key_from_var_segments_params(tmp_path: Path) -> None:
    """Overriding one param keeps the others at their defaults (compiled SQL)."""
    run = _run_dbt_in(
        PROJECT_DIR,
        [
            "compile",
            "--select",
            "segment_registry",
            "--vars",
            json.dumps({"segments.params": {"vip": {"min_spend_percentile": 0.95}}}),
        ],
        tmp_path,
        env={"SEGMENT_WAREHOUSE_TEST_DB": str(tmp_path / "warehouse.duckdb")},
    )
    assert run.success, run.output[-3000:]
    compiled = next((tmp_path / "target" / "compiled").rglob("segment_registry.sql")).read_text()
    params = _params("vip")
    assert (
        "spend_percentile >= 0.95 and frequency_percentile >= "
        f"{params['min_frequency_percentile']} and days_since_last_order < "
        f"{params['max_days_since_last_order']}"
    ) in compiled
    assert f"spend_percentile >= {params['min_spend_percentile']} " not in compiled


def test_new_segment_takes_exactly_the_customers_its_rule_selects(
    extended_warehouse: Warehouse, demo_warehouse: Warehouse
) -> None:
    rows = extended_warehouse.query(
        f"""
        select
            segments.customer_id,
            segments.vip_segment,
            coalesce({RISING_STAR_RULE}, false) as rising_star_rule_holds
        from marts.customer_segments as segments
        inner join intermediate.int_segment_features as features
            on segments.customer_id = features.customer_id
        """
    ).set_index("customer_id")
    before = demo_warehouse.query(
        "select customer_id, vip_segment from marts.customer_segments"
    ).set_index("customer_id")["vip_segment"]
    assert set(rows.index) == set(before.index)

    rising = rows["vip_segment"] == "Rising star"
    assert rising.sum() > 0
    assert rows.loc[rising, "rising_star_rule_holds"].all()
    # VIP keeps priority over the new segment, and nobody is VIP only after the change
    was_vip = before.loc[rows.index] == "VIP"
    assert ((rows["vip_segment"] == "VIP") == was_vip).all()
    expected_rising = rows["rising_star_rule_holds"] & ~was_vip
    assert (rising == expected_rising).all()
    # the retired segment's customers fall through to the later rules
    assert not (rows["vip_segment"] == "Lapsed VIP").any()
    was_lapsed = before.loc[rows.index] == "Lapsed VIP"
    assert was_lapsed.sum() > 0, "the demo data should have lapsed VIPs to retire"
    assert set(rows.loc[was_lapsed, "vip_segment"]) <= {"Rising star", "Not VIP"}

    assignments = extended_warehouse.query(
        "select rule_fired, rule_priority, count(*) as customers "
        "from marts.customer_segment_assignments "
        "where segment_family = 'vip' and segment = 'Rising star' group by all"
    )
    assert assignments[["rule_fired", "rule_priority"]].values.tolist() == [[RISING_STAR_RULE, 3]]
    assert assignments["customers"].iloc[0] == rising.sum()
    summary = extended_warehouse.query(
        "select segment, customer_count from marts.segment_summary where segment_family = 'vip'"
    ).set_index("segment")["customer_count"]
    assert summary["Rising star"] == rising.sum()
    assert "Lapsed VIP" not in summary.index


def test_registry_mart_documents_new_and_retired_segments(extended_warehouse: Warehouse) -> None:
    registry = extended_warehouse.query(
        "select segment, segment_status, coalesce(segment_rule, '-') as segment_rule, "
        "segment_priority, is_fallback "
        "from marts.segment_registry where segment_family = 'vip' order by segment_priority"
    )
    vip_rule, lapsed_rule = (
        _render_rule(segment["rule"], _family(_registry(), "vip"))
        for segment in _family(_registry(), "vip")["segments"][:2]
    )
    assert registry.values.tolist() == [
        ["VIP", "active", vip_rule, 1, False],
        ["Lapsed VIP", "retired", lapsed_rule, 2, False],
        ["Rising star", "active", RISING_STAR_RULE, 3, False],
        ["Not VIP", "active", "-", 4, True],
    ]


# ---- 5. a malformed registry fails clearly -------------------------------------------------


def _two_fallbacks(family: dict[str, Any]) -> None:
    family["segments"].append(
        {"segment": "Unknown channel", "fallback": True, "description": "A second fallback."}
    )


def _duplicated_priority(family: dict[str, Any]) -> None:
    cherry_picker = next(s for s in family["segments"] if s["segment"] == "Cherry picker")
    cherry_picker["priority"] = 1


def _unknown_param(family: dict[str, Any]) -> None:
    family["segments"][0]["rule"] = "spend_percentile >= {min_spend_share}"


@pytest.mark.parametrize(
    ("family", "edit", "regenerate", "expected_message"),
    [
        (
            "omnichannel",
            _two_fallbacks,
            True,
            "Segment registry (models/marts/segments/families/omnichannel.yml), family "
            "'omnichannel': exactly one segment must be the fallback (fallback: true), found 2.",
        ),
        (
            "discount",
            _duplicated_priority,
            True,
            "Segment registry (models/marts/segments/families/discount.yml), family 'discount', "
            "segment 'Cherry picker': priority must be a number, unique within the family.",
        ),
        (
            "vip",
            _unknown_param,
            True,
            "Segment registry (models/marts/segments/families/vip.yml), family 'vip', segment "
            "'VIP': the rule uses {min_spend_share}, which is not one of the family's params.",
        ),
        (
            "vip",
            _unknown_param,
            False,
            "segment_family_declarations.sql does not match the family files "
            "(models/marts/segments/families/*.yml); run `make registry-docs`.",
        ),
    ],
    ids=["two_fallbacks", "duplicated_priority", "unknown_param", "not_regenerated"],
)
def test_malformed_registry_stops_the_run_naming_file_family_and_problem(
    tmp_path: Path,
    family: str,
    edit: Callable[[dict[str, Any]], None],
    regenerate: bool,
    expected_message: str,
) -> None:
    project = _copy_project(tmp_path / "project")
    _edit_family(project, family, edit)
    if regenerate:
        _regenerate(project)
    run = _run_dbt_in(
        project,
        ["compile", "--select", "customer_segments"],
        tmp_path,
        env={"SEGMENT_WAREHOUSE_TEST_DB": str(tmp_path / "warehouse.duckdb")},
    )
    assert not run.success
    assert "Compilation Error" in run.output
    assert expected_message in " ".join(run.output.split()), run.output[-3000:]


def test_unknown_param_override_stops_the_run(tmp_path: Path) -> None:
    run = _run_dbt_in(
        PROJECT_DIR,
        [
            "compile",
            "--select",
            "customer_segments",
            "--vars",
            json.dumps({"segments.params": {"vip": {"min_spend": 0.9}}}),
        ],
        tmp_path,
        env={"SEGMENT_WAREHOUSE_TEST_DB": str(tmp_path / "warehouse.duckdb")},
    )
    assert not run.success
    assert (
        "Segment registry (models/marts/segments/families/vip.yml), family 'vip': var "
        "segments.params.vip sets 'min_spend', which is not one of the family's params"
    ) in " ".join(run.output.split()), run.output[-3000:]
