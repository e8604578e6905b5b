"""The report's page: one self-contained HTML file, plotly.js embedded once (opens offline).

Headline numbers first, then the segment families in page order, each with its chart and
a table of its segments (counts beside shares, meanings with the build's thresholds, rule),
then the RFM grid, lifecycle over time, value tiers and clusters.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from plotly.offline import get_plotlyjs

from segment_warehouse.bi.report.charts import Chart, build_charts
from segment_warehouse.bi.report.data import ReportData, load_report_data

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
    if not rows.empty:  # people who objected to profiling: counted, in no segment
        unranked = summary[(summary["segment_family"] == family) & summary["rule_priority"].isna()]
        for row in unranked.itertuples():
            body.append(
                f"<tr><td>{html.escape(str(row.segment))}</td>"
                + _number_cells(
                    row.customer_count, row.customer_share, row.revenue, row.revenue_share
                )
                + '<td class="meaning">objected to profiling: counted, in no segment</td>'
                + "<td></td></tr>"
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
