"""The report's data: the published marts read with SQL, and the headline numbers.

Only the published DuckDB file that BI tools read is opened (read-only), never the
warehouse dbt writes. The headline numbers (customers, net revenue, active share,
customers at risk, as of the publication's as_of_date) are each one SQL query over it.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from segment_warehouse.bi.report.labels import (
    FAMILY_ORDER_COLUMNS,
    Thresholds,
    declared_thresholds,
    fill_thresholds,
    order_families,
)
from segment_warehouse.pipeline.publish import quote_literal

REQUIRED_TABLES = (
    "publication",
    "segment_summary",
    "segment_registry",
    "segment_size_history",
    "dim_customers",
    "customer_segments",
)
"""Tables the report cannot do without; customer_rfm and the cluster marts are optional."""

ACTIVE_STAGES = ("New", "Active", "Reactivated")
"""Lifecycle stages counted as active: every one means a purchase within the active window."""

AT_RISK_STAGE = "At risk"
"""The lifecycle stage counted as at risk: lapsing, not yet churned, still worth a win-back."""

PUBLISHED_VARS = {("customer_value_predictions", "horizon_days"): "clv.horizon_days"}
"""Vars named in meanings but in no rule, read from the published column that records them."""


class ReportError(RuntimeError):
    """The published file is missing or lacks a table the report needs."""


# ---- headline numbers ----------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Kpi:
    """One headline number, with how it is computed in words."""

    key: str
    label: str
    value: float
    shown: str
    detail: str
    definition: str


def _kpi_queries() -> dict[str, str]:
    """Return the SQL of each headline number over the published marts (catalog ``published``)."""
    active = ", ".join(quote_literal(stage) for stage in ACTIVE_STAGES)
    return {
        "customers": "select count(*) from published.dim_customers",
        "revenue": (
            "select coalesce(sum(cast(net_spend as double)), 0) from published.dim_customers"
        ),
        "active": (
            f"select count(*) from published.customer_segments where lifecycle_stage in ({active})"
        ),
        "at_risk": (
            "select count(*) from published.customer_segments"
            f" where lifecycle_stage = {quote_literal(AT_RISK_STAGE)}"
        ),
    }


def _lower_first(sentence: str) -> str:
    """Continue a sentence with ``sentence``: 'Last purchase ...' -> 'last purchase ...'."""
    if len(sentence) > 1 and sentence[0].isupper() and sentence[1].islower():
        return sentence[0].lower() + sentence[1:]
    return sentence


def headline_kpis(
    counts: Mapping[str, float], as_of_date: datetime.date, meanings: Mapping[str, str]
) -> list[Kpi]:
    """Build the headline numbers of the page from the results of :func:`_kpi_queries`.

    ``meanings`` are the lifecycle stages' meanings, thresholds filled in.
    """
    customers = int(counts["customers"])
    active = int(counts["active"])
    at_risk = int(counts["at_risk"])

    def share(part: int) -> float:
        return part / customers if customers else 0.0

    stages = ", ".join(ACTIVE_STAGES[:-1]) + f" or {ACTIVE_STAGES[-1]}"
    active_meaning = meanings.get("Active", "")
    return [
        Kpi(
            "customers",
            "Customers",
            customers,
            f"{customers:,}",
            f"as of {as_of_date}",
            "Every customer known on the as-of date (dim_customers), prospects included.",
        ),
        Kpi(
            "revenue",
            "Net revenue",
            float(counts["revenue"]),
            f"{float(counts['revenue']):,.0f}",
            "reporting currency",
            "Net spend of all customers: purchases minus refunds booked on or before the "
            f"as-of date {as_of_date} (sum of dim_customers.net_spend), reporting currency.",
        ),
        Kpi(
            "active_share",
            "Active share",
            share(active),
            f"{share(active):.1%}",
            f"{active:,} customers",
            f"Share of all customers in the lifecycle stages {stages} "
            f"(customer_segments.lifecycle_stage); Active: {_lower_first(active_meaning)}",
        ),
        Kpi(
            "at_risk",
            "Customers at risk",
            at_risk,
            f"{at_risk:,}",
            f"{share(at_risk):.1%} of customers",
            f"Customers in the lifecycle stage {AT_RISK_STAGE}: "
            f"{_lower_first(meanings.get(AT_RISK_STAGE, ''))} Lapsing but not yet churned.",
        ),
    ]


# ---- the data ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReportData:
    """What the report draws, read from one published file."""

    run_id: str
    as_of_date: datetime.date
    published_at: datetime.datetime
    summary: pd.DataFrame
    registry: pd.DataFrame
    size_history: pd.DataFrame
    rfm_grid: pd.DataFrame | None
    clusters: pd.DataFrame | None
    cluster_features: pd.DataFrame | None
    kpis: tuple[Kpi, ...] = ()
    families: tuple[str, ...] = ()
    thresholds: Thresholds = dataclasses.field(default_factory=Thresholds)


def load_report_data(published_path: Path, project_dir: Path | None = None) -> ReportData:
    """Read the marts the report needs from the published file (read-only).

    ``project_dir`` is where the segment registry is declared (its rule templates name the
    params and vars whose rendered values the meanings show); default the project of this
    process (:func:`segment_warehouse.paths.project_dir`, looked up when called).

    Raises:
        ReportError: The file does not exist or lacks one of REQUIRED_TABLES.

    """
    published_path = Path(published_path)
    if not published_path.is_file():
        raise ReportError(
            f"{published_path} does not exist: run the scheduled job (make refresh) first"
        )
    connection = duckdb.connect()
    try:
        connection.execute(f"attach {quote_literal(str(published_path))} as published (read_only)")
        tables = {
            name
            for (name,) in connection.execute(
                "select table_name from information_schema.tables"
                " where table_catalog = 'published' and table_schema = 'main'"
            ).fetchall()
        }
        missing = [table for table in REQUIRED_TABLES if table not in tables]
        if missing:
            raise ReportError(f"{published_path} lacks the tables {missing}")

        def frame(sql: str) -> pd.DataFrame:
            return connection.execute(sql).df()

        def scalar(sql: str) -> Any:
            return connection.execute(sql).fetchall()[0][0]

        registry_columns = {
            name
            for (name,) in connection.execute(
                "select column_name from information_schema.columns"
                " where table_catalog = 'published' and table_schema = 'main'"
                " and table_name = 'segment_registry'"
            ).fetchall()
        }
        order_columns = "".join(
            f', "{name}"' for name in FAMILY_ORDER_COLUMNS if name in registry_columns
        )

        publication = frame("select * from published.publication").iloc[0]
        summary = frame(
            "select segment_family, segment, rule_priority, customer_count, customer_share,"
            " cast(revenue as double) as revenue, revenue_share,"
            " cast(average_order_value as double) as average_order_value, orders_per_customer"
            " from published.segment_summary order by segment_family, rule_priority, segment"
        )
        registry = frame(
            "select segment_family, segment_column, family_group, family_description, segment,"
            " segment_priority, is_fallback, segment_rule, segment_value_expression,"
            f" segment_description, segment_status{order_columns}"
            " from published.segment_registry order by segment_family, is_fallback,"
            " segment_priority"
        )
        size_history = frame(
            "select as_of_date, segment_family, segment, customer_count, customer_share"
            " from published.segment_size_history order by as_of_date, segment_family, segment"
        )
        counts = {key: scalar(sql) for key, sql in _kpi_queries().items()}
        carried: dict[str, str] = {}
        for (table, column), name in PUBLISHED_VARS.items():
            if table in tables:
                values = connection.execute(
                    f"select distinct {column} from published.{table} where {column} is not null"
                ).fetchall()
                if len(values) == 1:
                    carried[name] = str(values[0][0])
        rfm_grid = None
        if "customer_rfm" in tables:
            rfm_grid = frame(
                "select recency_score, frequency_score, count(*) as customer_count,"
                " avg(cast(rfm_spend as double)) as average_spend"
                " from published.customer_rfm where recency_score is not null"
                " group by recency_score, frequency_score order by all"
            )
        clusters = cluster_features = None
        if "cluster_profiles" in tables:
            clusters = frame(
                "select cluster_id, cluster_label, customer_count, customer_share,"
                " cast(revenue as double) as revenue, revenue_share"
                " from published.cluster_profiles order by cluster_id"
            )
        if "cluster_feature_profiles" in tables:
            cluster_features = frame(
                "select cluster_id, cluster_label, feature, z_score"
                " from published.cluster_feature_profiles order by cluster_id, feature"
            )
    finally:
        connection.close()
    as_of_date = pd.Timestamp(publication["as_of_date"]).date()
    thresholds = declared_thresholds(
        registry, project_dir, {**carried, "as_of_date": str(as_of_date)}
    )
    registry = registry.assign(
        segment_description=[
            fill_thresholds(str(text), thresholds.values_of(family), thresholds.names_of(family))
            for family, text in zip(
                registry["segment_family"], registry["segment_description"], strict=True
            )
        ],
        family_description=[
            fill_thresholds(str(text), thresholds.values_of(family), thresholds.names_of(family))
            for family, text in zip(
                registry["segment_family"], registry["family_description"], strict=True
            )
        ],
    )
    lifecycle = registry[registry["segment_family"] == "lifecycle"]
    meanings = dict(zip(lifecycle["segment"], lifecycle["segment_description"], strict=True))
    return ReportData(
        run_id=str(publication["run_id"]),
        as_of_date=as_of_date,
        published_at=pd.Timestamp(publication["published_at"]).to_pydatetime(),
        summary=summary,
        registry=registry,
        size_history=size_history,
        rfm_grid=rfm_grid,
        clusters=clusters,
        cluster_features=cluster_features,
        kpis=tuple(headline_kpis(counts, as_of_date, meanings)),
        families=tuple(order_families(summary["segment_family"], registry)),
        thresholds=thresholds,
    )
