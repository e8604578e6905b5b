"""The report's charts: one plotly figure per family and per section of the page."""

from __future__ import annotations

import dataclasses
import html

import pandas as pd
import plotly.graph_objects as go

from segment_warehouse.bi.report.data import ReportData
from segment_warehouse.bi.report.labels import order_families, readable

VALUE_FAMILIES = ("value", "predicted_value")
CUSTOMER_COLOUR = "#4c78a8"
REVENUE_COLOUR = "#f58518"


@dataclasses.dataclass(frozen=True)
class Chart:
    """One figure of the report, with the section it belongs to."""

    chart_id: str
    section: str
    title: str
    figure: go.Figure
    caption: str = ""
    family: str | None = None


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
