"""The segment report: one self-contained HTML page of charts over the published marts.

It reads only the published DuckDB file that BI tools read (never the warehouse dbt writes)
and draws every chart with plotly; plotly.js is embedded once, so the page opens offline.

The page leads with the headline numbers, each computed with SQL from the published marts
(customers, net revenue, active share, customers at risk, as of the publication's
as_of_date), then the segment families in a meaningful order (the registry's own order when
it declares one, else lifecycle, value, RFM and churn risk first and the rest alphabetical),
each with its segments' counts beside their shares and its meanings with the thresholds the
build used filled in, the RFM grid as a heatmap, lifecycle stages over the run dates, value
tiers (historic and predicted), and the behavioural clusters with their feature z-scores
(when the clusters are published). Column and feature names are shown as readable labels.

Thresholds: a meaning names a var (``lifecycle_new_days``); its value is read back from the
published ``segment_registry.segment_rule`` (the rule as the build rendered it, vars filled
in) by matching the registry's declared rule template (``{{ var('lifecycle_new_days') }}``)
against it, so the page shows what the build used, never a default. A var no published rule
or column carries is named in words ("the configured CLV annual discount rate").
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import html
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from segment_warehouse.paths import PROJECT_DIR
from segment_warehouse.pipeline.publish import quote_literal

DEFAULT_PUBLISHED = PROJECT_DIR / "warehouse" / "published" / "segment_warehouse.duckdb"
DEFAULT_OUTPUT = PROJECT_DIR / "warehouse" / "published" / "report" / "segment_report.html"

REQUIRED_TABLES = (
    "publication",
    "segment_summary",
    "segment_registry",
    "segment_size_history",
    "dim_customers",
    "customer_segments",
)
"""Tables the report cannot do without; customer_rfm and the cluster marts are optional."""

VALUE_FAMILIES = ("value", "predicted_value")
CUSTOMER_COLOUR = "#4c78a8"
REVENUE_COLOUR = "#f58518"

LEAD_FAMILIES = ("lifecycle", "value", "rfm", "churn_risk")
"""Families shown first, in this order, when the registry declares no order of its own."""

FAMILY_ORDER_COLUMNS = ("family_order", "order")
"""Columns of segment_registry that, when present, give the families' order (lowest first)."""

ACTIVE_STAGES = ("New", "Active", "Reactivated")
"""Lifecycle stages counted as active: every one means a purchase within the active window."""

AT_RISK_STAGE = "At risk"
"""The lifecycle stage counted as at risk: lapsing, not yet churned, still worth a win-back."""

PUBLISHED_VARS = {"clv_horizon_days": ("customer_value_predictions", "horizon_days")}
"""Vars named in meanings but in no rule, read from the published column that records them."""

LABELS = {
    "rfm": "RFM",
    "vip": "VIP",
    "clv": "CLV",
    "nps": "NPS",
    "aov": "AOV",
    "p_alive": "P(alive)",
    "as_of_date": "As-of date",
    "inactive_tenure_share": "Share of tenure without purchases",
    "non_store_order_count": "Online orders",
    "store_order_count": "Store orders",
    "tenure_days": "Tenure in days",
    "top_category_spend_share": "Spend share of the top category",
    "discount_order_share": "Share of discounted orders",
    "holiday_order_share": "Share of holiday orders",
    "refunded_order_share": "Share of refunded orders",
    "churn_risk": "Churn risk",
    "micro_segment": "Micro-segment",
}
"""Readable labels for names the generic rule (snake_case to a sentence) renders badly."""

ACRONYMS = {"rfm", "vip", "clv", "nps", "aov", "bg", "nbd", "utc", "iso", "id"}

_TRANSFORMS = {"log": "log scale", "sqrt": "square root", "smoothed": "smoothed"}
"""Prefixes of model features, shown after the label: log_net_spend -> Net spend (log scale)."""


class ReportError(RuntimeError):
    """The published file is missing or lacks a table the report needs."""


# ---- readable labels -----------------------------------------------------------------------


def readable(name: str) -> str:
    """Turn a column, feature or family name into a label for people.

    ``days_since_last_order`` -> "Days since last order", ``log_net_spend`` -> "Net spend
    (log scale)", ``rfm`` -> "RFM": the LABELS mapping first, then snake_case as a sentence
    with known acronyms in capitals.
    """
    name = str(name)
    if name in LABELS:
        return LABELS[name]
    prefix, _, base = name.partition("_")
    if prefix in _TRANSFORMS and base:
        return f"{readable(base)} ({_TRANSFORMS[prefix]})"
    words = [word for word in name.split("_") if word]
    if not words or not re.fullmatch(r"[a-z0-9_]+", name):
        return name
    shown = [word.upper() if word in ACRONYMS else word for word in words]
    first = shown[0]
    shown[0] = first if first.isupper() else first.capitalize()
    return " ".join(shown)


def _inline(label: str) -> str:
    """Put a label inside a sentence: lower-case first word unless it is an acronym."""
    first, _, rest = label.partition(" ")
    first = first if first.isupper() or "(" in first else first.lower()
    return f"{first} {rest}".strip()


# ---- thresholds the build used -------------------------------------------------------------

_JINJA_EXPRESSION = re.compile(r"\{\{(.*?)\}\}", re.S)
_VAR_PATH_PART = re.compile(r"""var\(\s*['"]([\w.]+)['"]|\[\s*['"](\w+)['"]\s*\]|\.(\w+)""")
_FOLD = re.compile(r"\s+")


def _var_names(expression: str) -> list[str]:
    """Names a Jinja var expression may go by in a description.

    ``var('lifecycle_new_days')`` -> [lifecycle_new_days]; a namespaced
    ``var('segments')['lifecycle_new_days']`` -> [segments_lifecycle_new_days,
    segments.lifecycle_new_days, lifecycle_new_days].
    """
    parts: list[str] = []
    for match in _VAR_PATH_PART.finditer(expression):
        parts.extend(next(group for group in match.groups() if group).split("."))
    if not parts:
        return []
    return list(dict.fromkeys(["_".join(parts), ".".join(parts), parts[-1]]))


def _fold(text: str) -> str:
    return _FOLD.sub(" ", str(text)).strip()


def var_values_from_rule(template: str, rendered: str) -> dict[str, str]:
    """Read the var values a rendered rule was built with, from its declared template.

    ``days_since_first_order < {{ var('lifecycle_new_days') }}`` against
    ``days_since_first_order < 30`` gives ``{"lifecycle_new_days": "30"}``; a rendered rule
    that does not match its template (the registry changed since) gives nothing.
    """
    template = _fold(template)
    pieces: list[str] = []
    names: list[list[str]] = []
    position = 0
    for match in _JINJA_EXPRESSION.finditer(template):
        pieces.append(re.escape(template[position : match.start()]))
        pieces.append("(.+?)")
        names.append(_var_names(match.group(1)))
        position = match.end()
    if not names:
        return {}
    pieces.append(re.escape(template[position:]))
    found = re.fullmatch("".join(pieces), _fold(rendered))
    if found is None:
        return {}
    values: dict[str, str] = {}
    for aliases, value in zip(names, found.groups(), strict=True):
        for alias in aliases:
            values.setdefault(alias, value.strip())
    return values


def threshold_values(
    registry: pd.DataFrame, declared_families: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    """Return the value of every var a published rule was rendered with, by var name.

    ``registry`` is the published segment_registry (rules rendered by the build);
    ``declared_families`` the registry as declared (rules with their ``{{ var(...) }}``).
    """
    rendered = {
        (row.segment_family, row.segment): (row.segment_rule, row.segment_value_expression)
        for row in registry.itertuples()
    }
    values: dict[str, str] = {}
    for family in declared_families:
        for segment in family.get("segments") or []:
            published = rendered.get((family.get("family"), segment.get("segment")))
            if published is None:
                continue
            for template, built in zip(
                (segment.get("rule"), segment.get("value")), published, strict=True
            ):
                if isinstance(template, str) and isinstance(built, str):
                    for name, value in var_values_from_rule(template, built).items():
                        values.setdefault(name, value)
    return values


def _flat_names(variables: Mapping[str, Any], prefix: str = "") -> set[str]:
    """Return every var name, nested ones too.

    ``segments: {lifecycle_new_days: ..}`` gives both ``lifecycle_new_days`` and
    ``segments.lifecycle_new_days``.
    """
    names: set[str] = set()
    for key, value in variables.items():
        names.add(str(key))
        if prefix:
            names.add(f"{prefix}.{key}")
        if isinstance(value, Mapping):
            names |= _flat_names(value, f"{prefix}.{key}" if prefix else str(key))
    return names


def _declared_registry(project_dir: Path | None) -> tuple[list[dict[str, Any]], set[str]]:
    """Return the registry as declared (rule templates) and the project's var names.

    Only names and templates are read here, never values: a value on the page is one the
    build rendered into the published marts. Without a readable project (a report rendered
    elsewhere) the meanings keep their var names in words.
    """
    try:
        from segment_warehouse.documentation import registry as declared

        if project_dir is None:
            return declared.load_registry(), _flat_names(declared.load_project_vars())
        return (
            declared.load_registry(project_dir),
            _flat_names(declared.load_project_vars(project_dir)),
        )
    except (ImportError, OSError, KeyError, TypeError, ValueError):
        return [], set()


def _format_value(name: str, value: str) -> str:
    """Show a var's value in a sentence: shares as percentages, the rest as rendered."""
    try:
        number = float(value)
    except ValueError:
        return value.strip("'\"")
    if name.endswith("_share") and 0 <= number <= 1:
        return f"{number * 100:g} %"
    return value


def fill_thresholds(text: str, values: Mapping[str, str], var_names: Iterable[str] = ()) -> str:
    """Put the build's value in place of every var name in ``text``.

    ``First purchase less than lifecycle_new_days days ago.`` -> ``First purchase less than 30
    days ago.``; ``lifecycle_churn_days - 1`` folds to the number. A var name without a value
    (in ``var_names`` but not in ``values``) is named in words, never guessed.
    """
    names = sorted({*values, *var_names}, key=len, reverse=True)
    if not names:
        return text
    pattern = re.compile(
        r"`?\b(" + "|".join(re.escape(name) for name in names) + r")\b`?"
        r"(?:\s*(?P<sign>[-+])\s*(?P<step>\d+)\b)?"
    )

    def replace(match: re.Match[str]) -> str:
        name, sign, step = match.group(1), match.group("sign"), match.group("step")
        offset = f" {sign} {step}" if sign else ""
        if name not in values:
            return f"the configured {_inline(readable(name.rsplit('.', 1)[-1]))}{offset}"
        value = values[name]
        if sign and re.fullmatch(r"-?\d+", value):
            shown = str(int(value) + (int(step) if sign == "+" else -int(step)))
        else:
            shown = _format_value(name, value) + offset
        # a number of days reads as days even where the sentence only named the var
        following = match.string[match.end() :].split()[:3]
        if name.endswith("_days") and not any("day" in word for word in following):
            shown += " days"
        return shown

    return pattern.sub(replace, text)


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
    thresholds: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Chart:
    """One figure of the report, with the section it belongs to."""

    chart_id: str
    section: str
    title: str
    figure: go.Figure
    caption: str = ""
    family: str | None = None


def order_families(families: Iterable[str], registry: pd.DataFrame) -> list[str]:
    """Put the families in page order.

    When segment_registry has an order column (FAMILY_ORDER_COLUMNS), its lowest value per
    family decides, families without one after, by name. Otherwise LEAD_FAMILIES first, in
    that order, then the rest by name.
    """
    families = list(dict.fromkeys(families))
    column = next((name for name in FAMILY_ORDER_COLUMNS if name in registry.columns), None)
    if column is not None:
        declared = pd.to_numeric(registry[column], errors="coerce")
        position = declared.groupby(registry["segment_family"]).min().dropna()
        if not position.empty:
            return sorted(
                families,
                key=lambda family: (
                    family not in position.index,
                    float(position.get(family, 0.0)),
                    family,
                ),
            )
    lead = {family: index for index, family in enumerate(LEAD_FAMILIES)}
    return sorted(families, key=lambda family: (lead.get(family, len(lead)), family))


def load_report_data(published_path: Path, project_dir: Path | None = None) -> ReportData:
    """Read the marts the report needs from the published file (read-only).

    ``project_dir`` is where the segment registry is declared (its rule templates name the
    vars whose rendered values the meanings show); default this package's project.

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
        for name, (table, column) in PUBLISHED_VARS.items():
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
    declared_families, var_names = _declared_registry(project_dir)
    thresholds = {
        **carried,
        **threshold_values(registry, declared_families),
        "as_of_date": str(as_of_date),
    }
    registry = registry.assign(
        segment_description=[
            fill_thresholds(str(text), thresholds, var_names)
            for text in registry["segment_description"]
        ],
        family_description=[
            fill_thresholds(str(text), thresholds, var_names)
            for text in registry["family_description"]
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


# ---- charts --------------------------------------------------------------------------------


def _layout(figure: go.Figure, *, height: int, **extra: object) -> go.Figure:
    figure.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        **extra,
    )
    return figure


def count_and_share(count: float, share: float | None, unit: str = "customers") -> str:
    """Label a bar with its count beside its share: '1,065 customers (36.2 %)'."""
    shown = f"{float(count):,.0f}" + (f" {unit}" if unit else "")
    if share is None or pd.isna(share):
        return shown
    return f"{shown} ({float(share):.1%})"


def family_share_chart(summary: pd.DataFrame, family: str) -> go.Figure:
    """Chart the share of customers and of revenue of each segment of one family."""
    rows = summary[summary["segment_family"] == family].sort_values(
        ["rule_priority", "segment"], ascending=[False, False]
    )
    hover = (
        "%{y}<br>%{customdata[0]:,} customers<br>customer share %{x:.1%}"
        "<br>revenue %{customdata[1]:,.0f}<extra></extra>"
    )
    customdata = rows[["customer_count", "revenue"]].to_numpy()
    widest = float(max(rows["customer_share"].max(), rows["revenue_share"].fillna(0).max(), 0))
    figure = go.Figure(
        [
            go.Bar(
                name="share of customers",
                y=rows["segment"],
                x=rows["customer_share"],
                orientation="h",
                marker_color=CUSTOMER_COLOUR,
                customdata=customdata,
                hovertemplate=hover,
                text=[
                    count_and_share(count, share)
                    for count, share in zip(
                        rows["customer_count"], rows["customer_share"], strict=True
                    )
                ],
                textposition="outside",
                cliponaxis=False,
            ),
            go.Bar(
                name="share of revenue",
                y=rows["segment"],
                x=rows["revenue_share"].fillna(0),
                orientation="h",
                marker_color=REVENUE_COLOUR,
                customdata=customdata,
                hovertemplate=hover.replace("customer share", "revenue share"),
                text=[
                    count_and_share(revenue, share, unit="")
                    for revenue, share in zip(rows["revenue"], rows["revenue_share"], strict=True)
                ],
                textposition="outside",
                cliponaxis=False,
            ),
        ]
    )
    return _layout(
        figure,
        height=120 + 40 * len(rows),
        barmode="group",
        xaxis={"tickformat": ".0%", "range": [0, max(widest, 0.01) * 1.45]},
    )


def rfm_heatmap(rfm_grid: pd.DataFrame) -> go.Figure:
    """Chart customers per recency score (rows) and frequency score (columns), 1-5 each."""
    scores = list(range(1, 6))
    counts = (
        rfm_grid.pivot_table(
            index="recency_score", columns="frequency_score", values="customer_count", fill_value=0
        )
        .reindex(index=scores, columns=scores, fill_value=0)
        .astype(int)
    )
    total = int(counts.to_numpy().sum())
    spend = rfm_grid.pivot_table(
        index="recency_score", columns="frequency_score", values="average_spend"
    ).reindex(index=scores, columns=scores)
    figure = go.Figure(
        go.Heatmap(
            z=counts.to_numpy(),
            x=[f"F{score}" for score in scores],
            y=[f"R{score}" for score in scores],
            customdata=spend.to_numpy(),
            colorscale="Blues",
            text=[
                [f"{count:,}<br>{count / total:.1%}" if total else f"{count:,}" for count in row]
                for row in counts.to_numpy().tolist()
            ],
            texttemplate="%{text}",
            hovertemplate=(
                "%{y} %{x}<br>%{z:,} customers<br>average spend %{customdata:,.0f}<extra></extra>"
            ),
            colorbar={"title": "customers"},
        )
    )
    return _layout(
        figure,
        height=420,
        xaxis={"title": "frequency score (5 = most frequent)"},
        yaxis={"title": "recency score (5 = most recent)"},
    )


def lifecycle_trend_chart(size_history: pd.DataFrame) -> go.Figure:
    """Chart the customers in each lifecycle stage on every run date (stacked bars)."""
    lifecycle = size_history[size_history["segment_family"] == "lifecycle"]
    figure = go.Figure()
    for stage, rows in lifecycle.groupby("segment", sort=True):
        figure.add_trace(
            go.Bar(
                name=stage,
                x=pd.to_datetime(rows["as_of_date"]).dt.strftime("%Y-%m-%d"),
                y=rows["customer_count"],
                customdata=rows["customer_share"],
                text=[
                    count_and_share(count, share, unit="")
                    for count, share in zip(
                        rows["customer_count"], rows["customer_share"], strict=True
                    )
                ],
                textposition="inside",
                hovertemplate=(
                    f"{html.escape(stage)}<br>%{{x}}: %{{y:,}} customers "
                    "(%{customdata:.1%})<extra></extra>"
                ),
            )
        )
    return _layout(
        figure,
        height=420,
        barmode="stack",
        yaxis={"title": "customers"},
        xaxis={"title": "run date", "type": "category"},
    )


def _tier(segment: str) -> str:
    """Name the tier of a value segment: 'High predicted value', 'High value' -> 'High'."""
    return segment.replace(" predicted value", "").replace(" value", "")


def value_tier_chart(summary: pd.DataFrame) -> go.Figure:
    """Chart the share of customers and of revenue of the historic and predicted value tiers."""
    figure = go.Figure()
    shades = {"value": ("#9ecae9", CUSTOMER_COLOUR), "predicted_value": ("#ffbf79", REVENUE_COLOUR)}
    for family in VALUE_FAMILIES:
        rows = summary[summary["segment_family"] == family].sort_values("rule_priority")
        tiers = [_tier(segment) for segment in rows["segment"]]
        light, dark = shades[family]
        for measure, amount, unit, colour, label in (
            ("customer_share", "customer_count", "customers", light, "share of customers"),
            ("revenue_share", "revenue", "", dark, "share of revenue"),
        ):
            figure.add_trace(
                go.Bar(
                    name=f"{readable(family)}: {label}",
                    x=tiers,
                    y=rows[measure].fillna(0),
                    text=[
                        count_and_share(value, share, unit=unit)
                        for value, share in zip(rows[amount], rows[measure], strict=True)
                    ],
                    textposition="outside",
                    textangle=-90,
                    constraintext="none",
                    cliponaxis=False,
                    marker_color=colour,
                    customdata=rows[["segment", "customer_count"]].to_numpy(),
                    hovertemplate=(
                        f"%{{customdata[0]}}<br>{label} %{{y:.1%}}<br>"
                        "%{customdata[1]:,} customers<extra></extra>"
                    ),
                )
            )
    highest = max((max(trace.y, default=0) for trace in figure.data), default=0)
    return _layout(
        figure,
        height=480,
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, max(float(highest), 0.01) * 1.6]},
    )


def cluster_size_chart(clusters: pd.DataFrame) -> go.Figure:
    """Chart the share of purchasers and of revenue of every cluster."""
    figure = go.Figure(
        [
            go.Bar(
                name="share of purchasers",
                x=clusters["cluster_label"],
                y=clusters["customer_share"],
                marker_color=CUSTOMER_COLOUR,
                text=[
                    count_and_share(count, share, unit="")
                    for count, share in zip(
                        clusters["customer_count"], clusters["customer_share"], strict=True
                    )
                ],
                textposition="outside",
                textangle=-90,
                constraintext="none",
                cliponaxis=False,
            ),
            go.Bar(
                name="share of revenue",
                x=clusters["cluster_label"],
                y=clusters["revenue_share"].fillna(0),
                marker_color=REVENUE_COLOUR,
                text=[
                    count_and_share(revenue, share, unit="")
                    for revenue, share in zip(
                        clusters["revenue"], clusters["revenue_share"], strict=True
                    )
                ],
                textposition="outside",
                textangle=-90,
                constraintext="none",
                cliponaxis=False,
            ),
        ]
    )
    highest = max(
        float(clusters["customer_share"].max()), float(clusters["revenue_share"].fillna(0).max())
    )
    return _layout(
        figure,
        height=460,
        barmode="group",
        yaxis={"tickformat": ".0%", "range": [0, max(highest, 0.01) * 2]},
    )


def cluster_profile_heatmap(cluster_features: pd.DataFrame) -> go.Figure:
    """Chart the z-score of each feature (columns) in each cluster (rows)."""
    grid = cluster_features.pivot_table(index="cluster_label", columns="feature", values="z_score")
    limit = float(max(1.0, grid.abs().max().max())) if grid.size else 1.0
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=[readable(feature) for feature in grid.columns],
            y=list(grid.index),
            zmid=0,
            zmin=-limit,
            zmax=limit,
            colorscale="RdBu_r",
            texttemplate="%{z:.1f}",
            hovertemplate="%{y}<br>%{x}: z = %{z:.2f}<extra></extra>",
            colorbar={"title": "z-score"},
        )
    )
    return _layout(figure, height=140 + 45 * len(grid.index))


def build_charts(data: ReportData) -> list[Chart]:
    """Build every chart of the report, in page order."""
    charts: list[Chart] = []
    families = data.families or order_families(data.summary["segment_family"], data.registry)
    for family in families:
        charts.append(
            Chart(
                chart_id=f"family-{family}",
                section="families",
                title=readable(family),
                figure=family_share_chart(data.summary, family),
                family=family,
            )
        )
    if data.rfm_grid is not None and not data.rfm_grid.empty:
        charts.append(
            Chart(
                "rfm-grid",
                "rfm",
                "RFM grid: customers per recency and frequency score",
                rfm_heatmap(data.rfm_grid),
                "Each score is relative to all purchasers (5 = better than at least 80 %); "
                "hover for the average spend of a cell.",
            )
        )
    charts.append(
        Chart(
            "lifecycle-trend",
            "lifecycle",
            "Lifecycle stages over the run dates",
            lifecycle_trend_chart(data.size_history),
            "One bar per recorded run (segment_size_history); a single bar until the "
            "scheduled job has run on more than one date (e.g. refresh.py --backfill).",
        )
    )
    if set(VALUE_FAMILIES) & set(data.summary["segment_family"]):
        charts.append(
            Chart(
                "value-tiers",
                "value",
                "Value tiers: share of customers and of revenue, historic and predicted",
                value_tier_chart(data.summary),
            )
        )
    if data.clusters is not None and not data.clusters.empty:
        charts.append(
            Chart(
                "cluster-sizes",
                "clusters",
                "Clusters: share of purchasers and of revenue",
                cluster_size_chart(data.clusters),
            )
        )
    if data.cluster_features is not None and not data.cluster_features.empty:
        charts.append(
            Chart(
                "cluster-profiles",
                "clusters",
                "Cluster profiles: feature z-scores",
                cluster_profile_heatmap(data.cluster_features),
                "(cluster mean - population mean) / population standard deviation; red is "
                "above the average purchaser, blue below.",
            )
        )
    return charts


# ---- the page ------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem;
       color: #222; }
h1 { margin-bottom: 0.2rem; } h2 { border-bottom: 1px solid #ddd; margin-top: 2.5rem; }
.meta { color: #555; }
.kpis { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr));
        margin: 1rem 0; }
.kpi { border: 1px solid #ddd; border-radius: 6px; padding: 0.8rem; }
.kpi-label { color: #555; font-size: 0.9rem; }
.kpi-value { font-size: 2rem; font-weight: 600; }
.kpi-detail { color: #333; font-size: 0.9rem; }
.kpi-definition { color: #666; font-size: 0.8rem; margin-top: 0.4rem; }
.family { margin-bottom: 2rem; }
table.definitions { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
table.definitions td, table.definitions th { border-bottom: 1px solid #eee; padding: 0.2rem;
       text-align: left; vertical-align: top; }
table.definitions td.number, table.definitions th.number { text-align: right;
       white-space: nowrap; }
code { font-size: 0.8rem; }
.caption { color: #555; font-size: 0.9rem; }
"""


def _kpi_html(data: ReportData) -> str:
    cards = [
        f'<div class="kpi" id="kpi-{kpi.key}" data-kpi="{kpi.key}" data-value="{kpi.value!r}">'
        f'<div class="kpi-label">{html.escape(kpi.label)}</div>'
        f'<div class="kpi-value">{html.escape(kpi.shown)}</div>'
        f'<div class="kpi-detail">{html.escape(kpi.detail)}</div>'
        f'<div class="kpi-definition">{html.escape(kpi.definition)}</div></div>'
        for kpi in data.kpis
    ]
    return (
        '<section id="kpis"><h2>Headline numbers</h2>'
        f'<p class="meta">As of <strong id="as-of-date">{data.as_of_date}</strong>, from the '
        "published marts.</p>"
        f'<div class="kpis">{"".join(cards)}</div></section>'
    )


def _segment_counts(summary: pd.DataFrame, family: str) -> pd.DataFrame:
    """Add up customers and revenue per rule of ``family`` (a value segment's labels together)."""
    rows = summary[summary["segment_family"] == family]
    return rows.groupby("rule_priority")[
        ["customer_count", "customer_share", "revenue", "revenue_share"]
    ].sum(min_count=1)


def _number_cells(
    customers: float, customer_share: float, revenue: float, revenue_share: float
) -> str:
    return "".join(
        f'<td class="number">{amount}</td><td class="number">{_share(share)}</td>'
        for amount, share in (
            (f"{customers:,.0f}", customer_share),
            (f"{revenue:,.0f}", revenue_share),
        )
    )


def _definitions_table(registry: pd.DataFrame, summary: pd.DataFrame, family: str) -> str:
    """Tabulate the family's segments: counts and shares, meaning and rule.

    A family outside the registry (the micro-segments, a cross of other families) lists its
    published segments, largest first, without a meaning of its own.
    """
    rows = registry[registry["segment_family"] == family]
    counts = _segment_counts(summary, family)
    body = []
    if rows.empty:
        published = summary[summary["segment_family"] == family].sort_values(
            ["customer_count", "segment"], ascending=[False, True]
        )
        for row in published.itertuples():
            body.append(
                f"<tr><td>{html.escape(str(row.segment))}</td>"
                + _number_cells(
                    row.customer_count, row.customer_share, row.revenue, row.revenue_share
                )
                + '<td class="meaning"></td><td></td></tr>'
            )
    for row in rows.itertuples():
        rule = "fallback: no rule holds" if row.is_fallback else row.segment_rule
        status = " (retired)" if row.segment_status == "retired" else ""
        numbers = (
            counts.loc[row.segment_priority]
            if row.segment_status != "retired" and row.segment_priority in counts.index
            else None
        )
        if numbers is None:
            cells = '<td class="number">0</td><td class="number">-</td>' * 2
        else:
            cells = _number_cells(
                numbers["customer_count"],
                numbers["customer_share"],
                numbers["revenue"],
                numbers["revenue_share"],
            )
        body.append(
            f"<tr><td>{html.escape(str(row.segment))}{status}</td>{cells}"
            f'<td class="meaning">{html.escape(str(row.segment_description))}</td>'
            f"<td><code>{html.escape(str(rule))}</code></td></tr>"
        )
    return (
        '<table class="definitions"><tr><th>segment</th><th class="number">customers</th>'
        '<th class="number">share</th><th class="number">revenue</th>'
        '<th class="number">share of revenue</th><th>meaning</th><th>rule</th></tr>'
        + "".join(body)
        + "</table>"
    )


def _share(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{float(value):.1%}"


def _figure_html(chart: Chart) -> str:
    return chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=chart.chart_id,
        config={"displaylogo": False, "responsive": True},
    )


def render_html(data: ReportData, charts: Sequence[Chart]) -> str:
    """Render the whole page: headline numbers, sections and charts, plotly.js inline."""
    by_section: dict[str, list[Chart]] = {}
    for chart in charts:
        by_section.setdefault(chart.section, []).append(chart)
    families = data.registry.drop_duplicates("segment_family").set_index("segment_family")

    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Customer segments as of {data.as_of_date}</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        f"<h1>Customer segments as of {data.as_of_date}</h1>",
        _kpi_html(data),
        f'<p class="meta">Run <code>{html.escape(data.run_id)}</code>, published '
        f"{data.published_at:%Y-%m-%d %H:%M} UTC. Every customer is in exactly one segment "
        "of every family; shares are of all customers of the family (revenue: net spend up "
        "to the as-of date, reporting currency).</p>",
        '<nav><a href="#kpis">Headline numbers</a> · <a href="#families">Segment families</a>'
        ' · <a href="#rfm">RFM grid</a> · <a href="#lifecycle">Lifecycle over time</a> · '
        '<a href="#value">Value tiers</a> · <a href="#clusters">Clusters</a></nav>',
    ]
    headings = {
        "rfm": "RFM grid",
        "lifecycle": "Lifecycle over time",
        "value": "Value tiers",
        "clusters": "Clusters",
    }
    parts.append('<section id="families"><h2>Segment families</h2>')
    for chart in by_section.get("families", []):
        family = chart.family or chart.title
        description = families.loc[family, "family_description"] if family in families.index else ""
        parts.append(
            f'<div class="family" id="definition-{html.escape(family)}"'
            f' data-family="{html.escape(family)}">'
            f"<h3>{html.escape(chart.title)}</h3><p>{html.escape(str(description))}</p>"
            f"{_figure_html(chart)}{_definitions_table(data.registry, data.summary, family)}"
            "</div>"
        )
    parts.append("</section>")
    for section, heading in headings.items():
        parts.append(f'<section id="{section}"><h2>{heading}</h2>')
        section_charts = by_section.get(section, [])
        if not section_charts:
            parts.append('<p class="caption">Not in this publication.</p>')
        for chart in section_charts:
            parts.append(f"<h3>{html.escape(chart.title)}</h3>")
            if chart.caption:
                parts.append(f'<p class="caption">{html.escape(chart.caption)}</p>')
            parts.append(_figure_html(chart))
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    published_path: Path, output_path: Path, project_dir: Path | None = None
) -> tuple[Path, list[Chart]]:
    """Render the report of ``published_path`` to ``output_path`` (written atomically).

    ``project_dir`` declares the segment registry (see :func:`load_report_data`).
    """
    data = load_report_data(published_path, project_dir)
    charts = build_charts(data)
    output_path = Path(output_path)
    output_path.parent.mkdir(parents=True, exist_ok=True)
    temporary = output_path.with_name(f".{output_path.name}.tmp")
    temporary.write_text(render_html(data, charts), encoding="utf-8")
    temporary.replace(output_path)
    return output_path, charts


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of scripts/segment_report.py; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="segment_report.py",
        description=(
            "Render the self-contained HTML segment report (plotly charts) from the "
            "published marts that BI tools read."
        ),
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=DEFAULT_PUBLISHED,
        help=f"published DuckDB file (default {DEFAULT_PUBLISHED.relative_to(PROJECT_DIR)})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"HTML file to write (default {DEFAULT_OUTPUT.relative_to(PROJECT_DIR)})",
    )
    args = parser.parse_args(argv)
    try:
        output, charts = write_report(args.published, args.output)
    except ReportError as error:
        print(f"segment_report.py: error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {output} ({len(charts)} charts)")
    return 0
