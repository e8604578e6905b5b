"""The segment report: one self-contained HTML page of charts over the published marts.

It reads only the published DuckDB file that BI tools read (never the warehouse dbt writes)
and draws every chart with plotly; plotly.js is embedded once, so the page opens offline.

Sections: the publication (run, as_of_date), segment sizes and revenue shares of every family
with each family's definition from the registry, the RFM grid as a heatmap, lifecycle stages
over the run dates, value tiers (historic and predicted), and the behavioural clusters with
their feature z-scores (when the clusters are published).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import html
import sys
from collections.abc import Sequence
from pathlib import Path

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from segment_warehouse.paths import PROJECT_DIR
from segment_warehouse.pipeline.publish import quote_literal

DEFAULT_PUBLISHED = PROJECT_DIR / "warehouse" / "published" / "segment_warehouse.duckdb"
DEFAULT_OUTPUT = PROJECT_DIR / "warehouse" / "published" / "report" / "segment_report.html"

REQUIRED_TABLES = ("publication", "segment_summary", "segment_registry", "segment_size_history")
"""Tables the report cannot do without; customer_rfm and the cluster marts are optional."""

VALUE_FAMILIES = ("value", "predicted_value")
CUSTOMER_COLOUR = "#4c78a8"
REVENUE_COLOUR = "#f58518"


class ReportError(RuntimeError):
    """The published file is missing or lacks a table the report needs."""


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


@dataclasses.dataclass(frozen=True)
class Chart:
    """One figure of the report, with the section it belongs to."""

    chart_id: str
    section: str
    title: str
    figure: go.Figure
    caption: str = ""


def load_report_data(published_path: Path) -> ReportData:
    """Read the marts the report needs from the published file (read-only).

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

        publication = frame("select * from published.publication").iloc[0]
        summary = frame(
            "select segment_family, segment, rule_priority, customer_count, customer_share,"
            " cast(revenue as double) as revenue, revenue_share,"
            " cast(average_order_value as double) as average_order_value, orders_per_customer"
            " from published.segment_summary order by segment_family, rule_priority, segment"
        )
        registry = frame(
            "select segment_family, segment_column, family_group, family_description, segment,"
            " segment_priority, is_fallback, segment_rule, segment_description, segment_status"
            " from published.segment_registry order by segment_family, is_fallback,"
            " segment_priority"
        )
        size_history = frame(
            "select as_of_date, segment_family, segment, customer_count, customer_share"
            " from published.segment_size_history order by as_of_date, segment_family, segment"
        )
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
    return ReportData(
        run_id=str(publication["run_id"]),
        as_of_date=pd.Timestamp(publication["as_of_date"]).date(),
        published_at=pd.Timestamp(publication["published_at"]).to_pydatetime(),
        summary=summary,
        registry=registry,
        size_history=size_history,
        rfm_grid=rfm_grid,
        clusters=clusters,
        cluster_features=cluster_features,
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
            ),
            go.Bar(
                name="share of revenue",
                y=rows["segment"],
                x=rows["revenue_share"].fillna(0),
                orientation="h",
                marker_color=REVENUE_COLOUR,
                customdata=customdata,
                hovertemplate=hover.replace("customer share", "revenue share"),
            ),
        ]
    )
    return _layout(
        figure,
        height=120 + 28 * len(rows),
        barmode="group",
        xaxis={"tickformat": ".0%", "rangemode": "tozero"},
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
            text=counts.to_numpy(),
            texttemplate="%{text:,}",
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
        for measure, colour, label in (
            ("customer_share", light, "share of customers"),
            ("revenue_share", dark, "share of revenue"),
        ):
            figure.add_trace(
                go.Bar(
                    name=f"{family}: {label}",
                    x=tiers,
                    y=rows[measure].fillna(0),
                    marker_color=colour,
                    customdata=rows[["segment", "customer_count"]].to_numpy(),
                    hovertemplate=(
                        f"%{{customdata[0]}}<br>{label} %{{y:.1%}}<br>"
                        "%{customdata[1]:,} customers<extra></extra>"
                    ),
                )
            )
    return _layout(figure, height=400, barmode="group", yaxis={"tickformat": ".0%"})


def cluster_size_chart(clusters: pd.DataFrame) -> go.Figure:
    """Chart the share of purchasers and of revenue of every cluster."""
    figure = go.Figure(
        [
            go.Bar(
                name="share of purchasers",
                x=clusters["cluster_label"],
                y=clusters["customer_share"],
                marker_color=CUSTOMER_COLOUR,
            ),
            go.Bar(
                name="share of revenue",
                x=clusters["cluster_label"],
                y=clusters["revenue_share"].fillna(0),
                marker_color=REVENUE_COLOUR,
            ),
        ]
    )
    return _layout(figure, height=380, barmode="group", yaxis={"tickformat": ".0%"})


def cluster_profile_heatmap(cluster_features: pd.DataFrame) -> go.Figure:
    """Chart the z-score of each feature (columns) in each cluster (rows)."""
    grid = cluster_features.pivot_table(index="cluster_label", columns="feature", values="z_score")
    limit = float(max(1.0, grid.abs().max().max())) if grid.size else 1.0
    figure = go.Figure(
        go.Heatmap(
            z=grid.to_numpy(),
            x=list(grid.columns),
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
    for family in sorted(data.summary["segment_family"].unique()):
        charts.append(
            Chart(
                chart_id=f"family-{family}",
                section="families",
                title=family,
                figure=family_share_chart(data.summary, family),
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
.family { margin-bottom: 2rem; }
table.definitions { border-collapse: collapse; font-size: 0.85rem; width: 100%; }
table.definitions td, table.definitions th { border-bottom: 1px solid #eee; padding: 0.2rem;
       text-align: left; vertical-align: top; }
code { font-size: 0.8rem; }
.caption { color: #555; font-size: 0.9rem; }
"""


def _definitions_table(registry: pd.DataFrame, family: str) -> str:
    rows = registry[registry["segment_family"] == family]
    body = []
    for row in rows.itertuples():
        rule = "fallback: no rule holds" if row.is_fallback else row.segment_rule
        status = " (retired)" if row.segment_status == "retired" else ""
        body.append(
            f"<tr><td>{html.escape(str(row.segment))}{status}</td>"
            f"<td>{html.escape(str(row.segment_description))}</td>"
            f"<td><code>{html.escape(str(rule))}</code></td></tr>"
        )
    return (
        '<table class="definitions"><tr><th>segment</th><th>meaning</th><th>rule</th></tr>'
        + "".join(body)
        + "</table>"
    )


def _figure_html(chart: Chart) -> str:
    return chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=chart.chart_id,
        config={"displaylogo": False, "responsive": True},
    )


def render_html(data: ReportData, charts: Sequence[Chart]) -> str:
    """Render the whole page: metadata, sections and charts, plotly.js inline."""
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
        f'<p class="meta">Run <code>{html.escape(data.run_id)}</code>, published '
        f"{data.published_at:%Y-%m-%d %H:%M} UTC. Every customer is in exactly one segment "
        "of every family; shares are of all customers of the family (revenue: net spend up "
        "to the as-of date, reporting currency).</p>",
        '<nav><a href="#families">Segment families</a> · <a href="#rfm">RFM grid</a> · '
        '<a href="#lifecycle">Lifecycle over time</a> · <a href="#value">Value tiers</a> · '
        '<a href="#clusters">Clusters</a></nav>',
    ]
    headings = {
        "rfm": "RFM grid",
        "lifecycle": "Lifecycle over time",
        "value": "Value tiers",
        "clusters": "Clusters",
    }
    parts.append('<section id="families"><h2>Segment families</h2>')
    for chart in by_section.get("families", []):
        family = chart.title
        description = families.loc[family, "family_description"] if family in families.index else ""
        parts.append(
            f'<div class="family" id="definition-{html.escape(family)}">'
            f"<h3>{html.escape(family)}</h3><p>{html.escape(str(description))}</p>"
            f"{_figure_html(chart)}{_definitions_table(data.registry, family)}</div>"
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


def write_report(published_path: Path, output_path: Path) -> tuple[Path, list[Chart]]:
    """Render the report of ``published_path`` to ``output_path`` (written atomically)."""
    data = load_report_data(published_path)
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
