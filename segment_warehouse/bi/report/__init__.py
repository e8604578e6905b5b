"""The segment report: one self-contained HTML page of charts over the published marts.

It reads only the published DuckDB file that BI tools read (never the warehouse dbt writes)
and draws every chart with plotly; plotly.js is embedded once, so the page opens offline.
``segment-warehouse report`` writes it (to ``ProjectPaths.report`` by default).

The page leads with the headline numbers, each computed with SQL from the published marts
(customers, net revenue, active share, customers at risk, as of the publication's
as_of_date), then the segment families in a meaningful order (the registry's own order when
it declares one, else lifecycle, value, RFM and churn risk first and the rest alphabetical),
each with its segments' counts beside their shares and its meanings with the thresholds the
build used filled in, the RFM grid as a heatmap, lifecycle stages over the run dates, value
tiers (historic and predicted), and the behavioural clusters with their feature z-scores
(when the clusters are published). Column and feature names are shown as readable labels.

Modules: :mod:`.data` (SQL reads of the published file, headline numbers), :mod:`.labels`
(readable labels, family order, thresholds the build used), :mod:`.charts` (plotly figures),
:mod:`.page` (the HTML page).
"""

from segment_warehouse.bi.report.charts import Chart, build_charts
from segment_warehouse.bi.report.data import Kpi, ReportData, ReportError, load_report_data
from segment_warehouse.bi.report.labels import (
    fill_thresholds,
    order_families,
    readable,
    var_values_from_rule,
)
from segment_warehouse.bi.report.page import render_html, write_report

__all__ = [
    "Chart",
    "Kpi",
    "ReportData",
    "ReportError",
    "build_charts",
    "fill_thresholds",
    "load_report_data",
    "order_families",
    "readable",
    "render_html",
    "var_values_from_rule",
    "write_report",
]
