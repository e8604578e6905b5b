"""The BI handoff on the demo warehouse: public interface, semantic layer, report, docs site.

The semantic layer is queried with MetricFlow's own CLI (``mf query``) and every number is
checked against SQL written here directly on the marts. Browser checks open the report and
the docs site in headless Chromium (skipped when Chromium or its driver is not installed).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import Warehouse

from segment_warehouse.bi.report import (
    fill_thresholds,
    load_report_data,
    order_families,
    readable,
    var_values_from_rule,
    write_report,
)
from segment_warehouse.bi.report.labels import threshold_values
from segment_warehouse.documentation import registry
from segment_warehouse.pipeline import publish
from segment_warehouse.pipeline.dbt_runner import run_dbt

PROJECT_DIR = Path(__file__).resolve().parents[2]
MF = Path(sys.executable).with_name("mf")
PROJECT_LINKS = ("dbt_project.yml", "models", "macros", "seeds", "tests", "profiles")
LAYERS = ("staging", "intermediate", "marts")

pytestmark = pytest.mark.dbt


@pytest.fixture(scope="module")
def manifest(demo_warehouse: Warehouse) -> dict:
    return json.loads((demo_warehouse.database.parent / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def published(demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse's public marts published as the job publishes them."""
    out = tmp_path_factory.mktemp("published") / "segment_warehouse.duckdb"
    relations = publish.public_models(demo_warehouse.database.parent / "target" / "manifest.json")
    publish.publish(
        demo_warehouse.database,
        relations,
        out,
        run_id="bi-test",
        as_of_date="2026-06-30",
        parquet_dir=out.parent / "parquet",
    )
    return out


# ---- the public interface ------------------------------------------------------------------


def _models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "segment_warehouse"
    }


def test_public_marts_are_contracted_typed_documented_and_in_the_marts_group(
    manifest: dict,
) -> None:
    models = _models(manifest)
    public = {name: node for name, node in models.items() if node["access"] == "public"}
    assert {
        "dim_customers",
        "fct_orders",
        "customer_segments",
        "segment_summary",
        "segment_transitions",
        "segment_size_history",
        "customer_rfm",
        "cluster_profiles",
    } <= set(public)
    for name, node in public.items():
        assert node["config"]["contract"]["enforced"], name
        assert node["group"] == "marts", name
        assert node["columns"], name
        for column in node["columns"].values():
            assert column.get("data_type"), (name, column["name"])
    # every model and every documented column says what it is, in its layer's group
    for name, node in models.items():
        assert node["description"].strip(), name
        layer = node["path"].split("/")[0]
        assert node["group"] == layer, (name, node["group"])
        for column in node["columns"].values():
            assert column["description"].strip(), (name, column["name"])
    assert {group["name"] for group in manifest["groups"].values()} == set(LAYERS)


def test_personal_data_is_tagged_and_left_out_of_the_published_customer_mart(
    manifest: dict, published: Path, demo_warehouse: Warehouse
) -> None:
    dim = _models(manifest)["dim_customers"]
    pii = set(publish.pii_columns(dim))
    assert {"email", "phone", "first_name", "last_name", "birth_date", "postcode"} <= pii
    with duckdb.connect(str(published), read_only=True) as connection:
        published_columns = {
            row[0] for row in connection.execute("describe dim_customers").fetchall()
        }
        published_rows = connection.execute("select count(*) from dim_customers").fetchall()[0][0]
    warehouse_columns = set(demo_warehouse.query("from marts.dim_customers limit 0").columns)
    assert published_columns == warehouse_columns - pii
    assert published_rows == len(
        demo_warehouse.query("select customer_id from marts.dim_customers")
    )


def test_exposures_declare_the_dashboard_and_the_report_on_public_marts(manifest: dict) -> None:
    exposures = {node["name"]: node for node in manifest["exposures"].values()}
    # the segment families are declared as exposures too, one per family file
    families = {name for name, node in exposures.items() if "segment_family" in node["meta"]}
    assert families == {f"segment_family_{family['family']}" for family in registry.load_registry()}
    # and so are the audiences, one per audience file, each downstream of audience_members
    audiences = {name for name, node in exposures.items() if "audience" in node["meta"]}
    assert audiences
    for name in audiences:
        assert name == f"audience_{exposures[name]['meta']['audience']['audience']}"
        assert exposures[name]["type"] == "application", name
        assert exposures[name]["depends_on"]["nodes"] == [
            "model.segment_warehouse.audience_members"
        ]
    exposures = {name: node for name, node in exposures.items() if name not in families | audiences}
    assert set(exposures) == {"customer_segments_dashboard", "segment_report"}
    assert exposures["customer_segments_dashboard"]["type"] == "dashboard"
    assert exposures["segment_report"]["type"] == "analysis"
    for name, exposure in exposures.items():
        parents = exposure["depends_on"]["nodes"]
        assert parents, name
        for parent in parents:
            assert manifest["nodes"][parent]["access"] == "public", (name, parent)


def test_docs_blocks_describe_every_family_column(manifest: dict) -> None:
    columns = _models(manifest)["customer_segments"]["columns"]
    for family in registry.load_registry():
        description = columns[family["column"]]["description"]
        assert f"Segment family `{family['family']}`" in description, family["family"]
        for segment in family["segments"]:
            assert segment["segment"] in description, (family["family"], segment["segment"])


# ---- the semantic layer (MetricFlow) -------------------------------------------------------


@pytest.fixture(scope="module")
def metricflow(demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory):
    """Run ``mf`` on the demo warehouse: a project directory of links to this project with
    the demo build's semantic manifest in its own target/ (mf reads target/ of its cwd)."""
    project = tmp_path_factory.mktemp("mf_project")
    for name in PROJECT_LINKS:
        (project / name).symlink_to(PROJECT_DIR / name)
    (project / "target").mkdir()
    shutil.copy(
        demo_warehouse.database.parent / "target" / "semantic_manifest.json", project / "target"
    )
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(PROJECT_DIR / "profiles"),
        "DBT_TARGET": "test",
        "SEGMENT_WAREHOUSE_TEST_DB": str(demo_warehouse.database),
        "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(demo_warehouse.raw_dir),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(MF), *args], cwd=project, env=env, capture_output=True, text=True, check=False
        )

    def query(metrics: list[str], group_by: list[str], where: str | None = None) -> pd.DataFrame:
        out = project / "query.csv"
        out.unlink(missing_ok=True)
        args = ["query", "--metrics", ",".join(metrics), "--group-by", ",".join(group_by)]
        if where:
            args += ["--where", where]
        done = run(*args, "--csv", str(out))
        assert done.returncode == 0 and out.exists(), done.stdout + done.stderr
        return pd.read_csv(out)

    run.query = query  # type: ignore[attr-defined]
    return run


def _assert_frames_match(actual: pd.DataFrame, expected: pd.DataFrame, keys: list[str]) -> None:
    actual = actual.sort_values(keys).reset_index(drop=True)
    expected = expected.sort_values(keys).reset_index(drop=True)
    assert len(actual) == len(expected) > 0
    for column in expected.columns:
        if column in keys:
            assert list(actual[column].astype(str)) == list(expected[column].astype(str)), column
        else:
            np.testing.assert_allclose(
                actual[column].astype(float),
                expected[column].astype(float),
                rtol=1e-9,
                atol=1e-9,
                err_msg=column,
            )


def test_mf_validate_configs_passes(metricflow) -> None:
    done = metricflow("validate-configs")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "ERRORS: 0" in output and "Successfully validated" in output
    assert not [
        line for line in output.splitlines() if "ERRORS: " in line and "ERRORS: 0" not in line
    ]


def test_segment_sizes_from_mf_match_the_size_history(
    metricflow, demo_warehouse: Warehouse
) -> None:
    actual = metricflow.query(
        ["customers", "customer_share", "revenue", "revenue_share"],
        ["segment_size__segment_family", "segment_size__segment"],
    ).rename(
        columns={
            "segment_size__segment_family": "segment_family",
            "segment_size__segment": "segment",
        }
    )
    expected = demo_warehouse.query(
        """
        with latest as (
            select * from marts.segment_size_history
            where as_of_date = (select max(as_of_date) from marts.segment_size_history)
        )
        select
            segment_family,
            segment,
            customer_count as customers,
            customer_count / sum(customer_count) over (partition by segment_family)
                as customer_share,
            cast(revenue as double) as revenue,
            revenue / nullif(sum(revenue) over (partition by segment_family), 0)
                as revenue_share
        from latest
        """
    )
    # a family with no revenue at all has no revenue share (MetricFlow divides by null)
    _assert_frames_match(actual.fillna(0), expected.fillna(0), ["segment_family", "segment"])
    lifecycle = actual[actual["segment_family"] == "lifecycle"]
    assert lifecycle["customer_share"].sum() == pytest.approx(1)
    assert set(lifecycle["segment"]) >= {"Active", "At risk", "Churned"}


def test_order_kpis_by_month_and_lifecycle_stage_match_the_facts(
    metricflow, demo_warehouse: Warehouse
) -> None:
    actual = metricflow.query(
        ["order_revenue", "orders", "average_order_value", "orders_per_customer"],
        ["metric_time__month", "customer__lifecycle_stage"],
        where="{{ Dimension('customer__lifecycle_stage') }} in ('Active', 'At risk')",
    )
    actual["month"] = pd.to_datetime(actual.pop("metric_time__month")).dt.strftime("%Y-%m")
    actual = actual.rename(columns={"customer__lifecycle_stage": "lifecycle_stage"})
    expected = demo_warehouse.query(
        """
        select
            strftime(date_trunc('month', orders.order_date), '%Y-%m') as month,
            segments.lifecycle_stage,
            sum(cast(orders.net_amount as double)) as order_revenue,
            count(*) as orders,
            sum(cast(orders.net_amount as double)) / count(*) as average_order_value,
            count(*) / count(distinct orders.customer_id) as orders_per_customer
        from marts.fct_orders as orders
        inner join marts.customer_segments as segments
            on orders.customer_id = segments.customer_id
        where segments.lifecycle_stage in ('Active', 'At risk')
        group by all
        """
    )
    _assert_frames_match(actual, expected, ["month", "lifecycle_stage"])
    assert len(expected["month"].unique()) > 12


def test_churn_rate_and_predicted_clv_by_value_segment_match_the_marts(
    metricflow, demo_warehouse: Warehouse
) -> None:
    actual = metricflow.query(
        ["customer_count", "churn_rate", "predicted_clv", "average_predicted_clv"],
        ["customer__value_segment"],
    ).rename(columns={"customer__value_segment": "value_segment"})
    expected = demo_warehouse.query(
        """
        select
            segments.value_segment,
            count(*) as customer_count,
            sum(case when segments.lifecycle_stage = 'Churned' then 1 else 0 end)
                / nullif(sum(case when segments.lifecycle_stage <> 'Prospect' then 1 else 0 end), 0)
                as churn_rate,
            sum(values.predicted_clv) as predicted_clv,
            avg(values.predicted_clv) as average_predicted_clv
        from marts.customer_segments as segments
        left join marts.customer_value_predictions as values
            on segments.customer_id = values.customer_id
        group by all
        """
    )
    _assert_frames_match(actual.fillna(-1), expected.fillna(-1), ["value_segment"])
    rates = expected.set_index("value_segment")["churn_rate"]
    assert rates.dropna().min() > 0 and rates.dropna().max() < 1


def test_every_family_is_a_dimension_of_the_customer_semantic_model() -> None:
    semantic = yaml.safe_load(
        (PROJECT_DIR / "models/marts/semantic/_semantic__semantic_models.yml").read_text()
    )
    [customers] = [model for model in semantic["semantic_models"] if model["name"] == "customers"]
    dimensions = {dimension["name"] for dimension in customers["dimensions"]}
    assert {family["column"] for family in registry.load_registry()} <= dimensions


# ---- the segment report --------------------------------------------------------------------


@pytest.fixture(scope="module")
def report(published: Path) -> tuple[Path, list]:
    return write_report(published, published.parent / "report" / "segment_report.html")


def _query(published: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def _expected_family_order(published: Path) -> list[str]:
    """The page order, worked out here: the registry's order column when it has one, else
    lifecycle, value, RFM and churn risk first and the rest by name."""
    columns = {row[0] for row in _query(published, "describe segment_registry")}
    families = [
        row[0] for row in _query(published, "select distinct segment_family from segment_summary")
    ]
    for column in ("family_order", "order"):
        if column in columns:
            position = dict(
                _query(
                    published,
                    f'select segment_family, min("{column}") from segment_registry group by all',
                )
            )
            return sorted(
                families,
                key=lambda family: (
                    position.get(family) is None,
                    position.get(family) or 0,
                    family,
                ),
            )
    lead = ["lifecycle", "value", "rfm", "churn_risk"]
    return lead + sorted(family for family in families if family not in lead)


@pytest.fixture(scope="module")
def expected_kpis(published: Path) -> dict[str, float | str]:
    """The headline numbers computed here with SQL over the published file, from other
    marts than the report reads where one says the same (assignments, the summary)."""
    [(as_of_date,)] = _query(published, "select as_of_date from publication")
    [(customers, revenue)] = _query(
        published,
        "select count(distinct customer_id), sum(cast(net_spend as double)) from dim_customers",
    )
    [(summary_revenue,)] = _query(
        published,
        "select sum(cast(revenue as double)) from segment_summary"
        " where segment_family = 'lifecycle'",
    )
    assert summary_revenue == pytest.approx(revenue)
    [(active, at_risk)] = _query(
        published,
        """
        select
            count(distinct case when segment in ('New', 'Active', 'Reactivated')
                then customer_id end),
            count(distinct case when segment = 'At risk' then customer_id end)
        from customer_segment_assignments
        where segment_family = 'lifecycle'
        """,
    )
    assert 0 < active < customers and 0 < at_risk < customers
    return {
        "as_of_date": str(as_of_date),
        "customers": customers,
        "revenue": revenue,
        "active_share": active / customers,
        "at_risk": at_risk,
        "customers_shown": f"{customers:,}",
        "revenue_shown": f"{revenue:,.0f}",
        "active_share_shown": f"{active / customers:.1%}",
        "at_risk_shown": f"{at_risk:,}",
    }


PLACEHOLDER = re.compile(r"\{(var:)?([a-z_][a-z0-9_.]*)\}")


def _declared_var_names() -> set[str]:
    """Every param and var a family file's rule or value uses, as declared."""
    names: set[str] = set()
    for family in registry.load_registry():
        for segment in family["segments"]:
            for key in ("rule", "value"):
                names |= {name for _, name in PLACEHOLDER.findall(segment.get(key) or "")}
    assert names, "the family files declare no placeholder"
    return names


def _described_var_names() -> set[str]:
    """Every project var (by its dotted path when nested) or family param that a family's
    or segment's description names, read from dbt_project.yml and the family files."""

    def leaves(variables: dict, prefix: str = "") -> set[str]:
        found: set[str] = set()
        for key, value in variables.items():
            name = f"{prefix}{key}"
            found |= leaves(value, f"{name}.") if isinstance(value, dict) else {name}
        return found

    project_vars = leaves(registry.load_project_vars(PROJECT_DIR))
    names: set[str] = set()
    for family in registry.load_registry():
        texts = [family["description"], *(segment["description"] for segment in family["segments"])]
        for name in project_vars | set(family.get("params") or {}):
            if any(re.search(rf"\b{re.escape(name)}\b", text) for text in texts):
                names.add(name)
    return names


def test_report_draws_every_family_and_section_from_the_published_marts(
    report: tuple[Path, list], published: Path, expected_kpis: dict
) -> None:
    path, charts = report
    data = load_report_data(published)
    families = _expected_family_order(published)
    assert list(data.families) == families
    assert [chart.chart_id for chart in charts] == [
        *(f"family-{family}" for family in families),
        "rfm-grid",
        "lifecycle-trend",
        "value-tiers",
        "cluster-sizes",
        "cluster-profiles",
    ]
    by_id = {chart.chart_id: chart for chart in charts}
    # the lifecycle chart shows the published shares, segment by segment
    lifecycle = data.summary[data.summary["segment_family"] == "lifecycle"]
    bars = by_id["family-lifecycle"].figure.data[0]
    assert dict(zip(bars.y, bars.x, strict=True)) == pytest.approx(
        dict(zip(lifecycle["segment"], lifecycle["customer_share"], strict=True))
    )
    # the RFM heatmap counts every scored purchaser once
    with duckdb.connect(str(published), read_only=True) as connection:
        scored = connection.execute(
            "select count(*) from customer_rfm where recency_score is not null"
        ).fetchall()[0][0]
    assert np.asarray(by_id["rfm-grid"].figure.data[0].z).sum() == scored > 0
    # one z-score per cluster and feature
    heat = by_id["cluster-profiles"].figure.data[0]
    assert np.asarray(heat.z).shape == (
        len(data.clusters),
        data.cluster_features["feature"].nunique(),
    )

    # counts beside shares: every bar of a family carries its customers (or revenue)
    bars_text = dict(zip(bars.y, bars.text, strict=True))
    for row in lifecycle.itertuples():
        assert (
            bars_text[row.segment] == f"{row.customer_count:,} customers ({row.customer_share:.1%})"
        )
    # the heatmap's features are labels for people
    assert all("_" not in label for label in heat.x)
    assert "Days since last order (square root)" in heat.x

    page = path.read_text()
    assert page.count('class="plotly-graph-div"') == len(charts)
    assert "<script src=" not in page  # self-contained: plotly.js inline, nothing fetched
    positions = [page.index(f'id="definition-{family}"') for family in families]
    assert positions == sorted(positions)
    # the headline numbers come first, with the values computed here
    assert page.index('id="kpis"') < page.index('id="families"') < positions[0]
    for key in ("customers", "revenue", "active_share", "at_risk"):
        card = page[page.index(f'id="kpi-{key}"') :]
        card = card[: card.index("</div></div>")]
        assert f'<div class="kpi-value">{expected_kpis[f"{key}_shown"]}</div>' in card, key
        shown = float(re.search(r'data-value="([^"]+)"', card).group(1))
        assert shown == pytest.approx(expected_kpis[key]), key
    # meanings with the build's thresholds, no param or var names left
    for name in _declared_var_names():
        assert name not in page, name
    [(new_rule,)] = _query(
        published,
        "select segment_rule from segment_registry where segment_family = 'lifecycle'"
        " and segment = 'New'",
    )
    new_days = re.fullmatch(r"days_since_first_order < (\d+)", new_rule).group(1)
    assert f"First purchase less than {new_days} days ago." in page


def test_report_fills_thresholds_from_the_rendered_rules_and_labels_names() -> None:
    template = "days_since_last_order < {var:lifecycle.churn_days}"
    assert var_values_from_rule(template, "days_since_last_order < 120") == {
        "lifecycle.churn_days": "120"
    }
    assert var_values_from_rule(template, "days_since_first_order < 120") == {}
    assert var_values_from_rule(
        "p_alive < {var:churn.risk_high_max_p_alive} or x >= {var:high_days}\n"
        " and n >= {min_orders}",
        "p_alive < 0.25 or x >= 200 and n >= 3",
    ) == {"churn.risk_high_max_p_alive": "0.25", "high_days": "200", "min_orders": "3"}
    # one placeholder rendered two ways is no match
    assert var_values_from_rule("a < {n} and b < {n}", "a < 1 and b < 2") == {}
    # every placeholder of the family files is read back from its rule rendered here
    for family in registry.load_registry():
        params = family.get("params") or {}
        for segment in family["segments"]:
            rule = segment.get("rule") or ""
            names = [name for _, name in PLACEHOLDER.findall(rule)]
            planted = {name: str(100 + index) for index, name in enumerate(dict.fromkeys(names))}
            rendered = PLACEHOLDER.sub(lambda match, planted=planted: planted[match[2]], rule)
            assert var_values_from_rule(rule, rendered) == planted, (family["family"], rule)
            # a bare placeholder is one of the family's own params
            used_params = {name for var, name in PLACEHOLDER.findall(rule) if not var}
            assert used_params <= set(params), (family["family"], rule)
    # params are the family's own: the same name in two families keeps both values
    published = pd.DataFrame(
        {
            "segment_family": ["occasion", "daypart"],
            "segment": ["Holiday", "Night owl"],
            "segment_rule": ["order_count >= 4 and x < 30", "order_count >= 2"],
            "segment_value_expression": [None, None],
        }
    )
    declared = [
        {
            "family": "occasion",
            "segments": [
                {"segment": "Holiday", "rule": "order_count >= {min_orders} and x < {var:a.b}"}
            ],
        },
        {
            "family": "daypart",
            "segments": [{"segment": "Night owl", "rule": "order_count >= {min_orders}"}],
        },
    ]
    assert threshold_values(published, declared) == (
        {"a.b": "30"},
        {"occasion": {"min_orders": "4"}, "daypart": {"min_orders": "2"}},
    )
    values = {
        "lifecycle.active_days": "60",
        "lifecycle.churn_days": "120",
        "lifecycle_churn_days": "120",
        "min_order_share": "0.6",
    }
    assert (
        fill_thresholds(
            "Last purchase lifecycle.active_days to lifecycle.churn_days - 1 days ago.", values
        )
        == "Last purchase 60 to 119 days ago."
    )
    assert (
        fill_thresholds("over the next `lifecycle_churn_days`.", values)
        == "over the next 120 days."
    )
    assert fill_thresholds("At least min_order_share of them.", values) == "At least 60 % of them."
    # a var with no value in the publication is named in words, never given a default
    assert (
        fill_thresholds(
            "discounted at clv.annual_discount_rate;", values, {"clv.annual_discount_rate"}
        )
        == "discounted at the configured CLV annual discount rate;"
    )
    assert readable("days_since_last_order") == "Days since last order"
    assert readable("log_net_spend") == "Net spend (log scale)"
    assert readable("churn_risk") == "Churn risk"
    assert readable("rfm") == "RFM"
    families = ["vip", "churn_risk", "age_band", "rfm", "value", "lifecycle"]
    assert order_families(families, pd.DataFrame({"segment_family": families})) == [
        "lifecycle",
        "value",
        "rfm",
        "churn_risk",
        "age_band",
        "vip",
    ]
    declared = pd.DataFrame({"segment_family": families, "family_order": [3, 1, 2, None, 5, 4]})
    assert order_families(families, declared) == [
        "churn_risk",
        "age_band",
        "vip",
        "lifecycle",
        "value",
        "rfm",
    ]


def test_report_command_fails_clearly_without_a_publication(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.duckdb"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "segment_warehouse.cli",
            "--project-dir",
            str(PROJECT_DIR),
            "report",
            "--published",
            str(missing),
            "--output",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert str(missing) in done.stderr and "does not exist" in done.stderr
    assert not (tmp_path / "r.html").exists()


# ---- browser checks ------------------------------------------------------------------------


def _chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    found = _chromium()
    if found is None:
        pytest.skip(
            "Chromium and chromedriver are not installed (Debian: chromium chromium-driver)"
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--window-size=1280,2000",
        "--disable-gpu",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()


def _screenshot(driver, name: str) -> Path:
    directory = Path(os.environ.get("SEGMENT_WAREHOUSE_SCREENSHOTS", "target/screenshots"))
    directory = directory if directory.is_absolute() else PROJECT_DIR / directory
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    driver.save_screenshot(str(path))
    assert path.stat().st_size > 10_000  # a real picture, not a blank page
    return path


@pytest.mark.browser
def test_report_charts_render_with_data_in_chromium(browser, report: tuple[Path, list]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    path, charts = report
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(
        lambda driver: (
            driver.execute_script(
                "return document.querySelectorAll('.js-plotly-plot .main-svg').length"
            )
            >= len(charts)
        )
    )
    rendered = browser.execute_script(
        """
        return Array.from(document.querySelectorAll('.js-plotly-plot')).map(plot => ({
            id: plot.id,
            traces: plot.data.length,
            points: plot._fullData.map(trace => (trace.z || trace.y || trace.x || []).length),
            drawn: plot.querySelectorAll('.trace, .hm, .heatmaplayer image, path.point').length,
        }));
        """
    )
    assert [plot["id"] for plot in rendered] == [chart.chart_id for chart in charts]
    for plot in rendered:
        assert plot["traces"] > 0 and min(plot["points"]) > 0, plot
        assert plot["drawn"] > 0, plot
    _screenshot(browser, "segment_report")


@pytest.mark.browser
def test_report_leads_with_headline_numbers_in_family_order_with_counts_in_chromium(
    browser, report: tuple[Path, list], published: Path, expected_kpis: dict
) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    path, _ = report
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(
        lambda driver: driver.execute_script(
            "const plot = document.getElementById('cluster-profiles');"
            " return plot && plot.querySelectorAll('.xtick text').length > 0"
        )
    )
    page = browser.execute_script(
        """
        const text = element => (element.textContent || '').trim();
        const sections = Array.from(document.querySelectorAll('body > section'));
        const kpis = Array.from(document.querySelectorAll('#kpis .kpi'));
        return {
            firstSection: sections[0].id,
            kpisAboveFamilies: document.getElementById('kpis').getBoundingClientRect().bottom
                <= document.getElementById('families').getBoundingClientRect().top,
            asOfDate: text(document.getElementById('as-of-date')),
            kpis: kpis.map(kpi => ({
                key: kpi.dataset.kpi,
                value: Number(kpi.dataset.value),
                shown: text(kpi.querySelector('.kpi-value')),
                definition: text(kpi.querySelector('.kpi-definition')),
            })),
            families: Array.from(document.querySelectorAll('#families .family')).map(family => ({
                family: family.dataset.family,
                heading: text(family.querySelector('h3')),
                counts: Array.from(family.querySelectorAll('table.definitions tr'))
                    .slice(1).map(row => text(row.cells[1])),
                barTexts: Array.from(family.querySelectorAll('.bartext')).map(text),
                meanings: Array.from(family.querySelectorAll('td.meaning')).map(text),
                description: text(family.querySelector('p')),
            })),
            heatmapLabels: Array.from(
                document.querySelectorAll('#cluster-profiles .xtick text')
            ).map(text),
        };
        """
    )
    # the headline numbers lead the page and equal what SQL over the published file says
    assert page["firstSection"] == "kpis" and page["kpisAboveFamilies"]
    assert page["asOfDate"] == expected_kpis["as_of_date"]
    kpis = {kpi["key"]: kpi for kpi in page["kpis"]}
    assert list(kpis) == ["customers", "revenue", "active_share", "at_risk"]
    for key, kpi in kpis.items():
        assert kpi["shown"] == expected_kpis[f"{key}_shown"], key
        assert kpi["value"] == pytest.approx(expected_kpis[key]), key
        assert kpi["definition"], key
    assert "New, Active or Reactivated" in kpis["active_share"]["definition"]
    assert "At risk" in kpis["at_risk"]["definition"]

    # families in order, with readable headings
    families = _expected_family_order(published)
    assert [family["family"] for family in page["families"]] == families
    headings = {family["family"]: family["heading"] for family in page["families"]}
    assert headings["churn_risk"] == "Churn risk" and headings["rfm"] == "RFM"

    # counts beside shares: every table row and bar says how many
    for family in page["families"]:
        assert family["counts"] and all(
            re.fullmatch(r"[\d,]+", count) for count in family["counts"]
        ), family["family"]
        assert (
            sum(int(count.replace(",", "")) for count in family["counts"])
            == (expected_kpis["customers"])
        ), family["family"]
        assert any("customers (" in text for text in family["barTexts"]), family["family"]

    # meanings carry the build's thresholds, never a var's name
    var_names = _declared_var_names() | _described_var_names()
    for family in page["families"]:
        for meaning in [*family["meanings"], family["description"]]:
            for name in var_names:
                assert name not in meaning, (family["family"], name, meaning)
    lifecycle = next(family for family in page["families"] if family["family"] == "lifecycle")
    assert any(
        re.fullmatch(r"First purchase less than \d+ days ago\.", m) for m in lifecycle["meanings"]
    )

    # the cluster heatmap's features read as words
    features = [
        row[0] for row in _query(published, "select distinct feature from cluster_feature_profiles")
    ]
    assert sorted(page["heatmapLabels"]) == sorted(readable(feature) for feature in features)
    assert all("_" not in label for label in page["heatmapLabels"])
    _screenshot(browser, "segment_report_headline")


@pytest.fixture(scope="module")
def docs_site(demo_warehouse: Warehouse) -> Path:
    """dbt's static docs site of the demo warehouse (what make docs writes)."""
    target = demo_warehouse.database.parent / "docs_target"
    run_dbt(
        ["docs", "generate", "--static"],
        target="test",
        env={
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(demo_warehouse.raw_dir),
            "SEGMENT_WAREHOUSE_TEST_DB": str(demo_warehouse.database),
        },
        target_path=target,
        log_path=demo_warehouse.database.parent / "logs",
    )
    return target / "static_index.html"


def test_docs_site_is_one_file_with_manifest_catalog_and_family_definitions(
    docs_site: Path, manifest: dict
) -> None:
    page = docs_site.read_text()
    # dbt --static inlines both artifacts: the page needs no server and no other file
    assert "https://schemas.getdbt.com/dbt/manifest/" in page
    assert "https://schemas.getdbt.com/dbt/catalog/" in page
    catalog = json.loads((docs_site.parent / "catalog.json").read_text())
    segments = catalog["nodes"]["model.segment_warehouse.customer_segments"]["columns"]
    assert segments["lifecycle_stage"]["type"].lower() == "varchar"
    # the doc blocks are rendered into the column descriptions
    for family in registry.load_registry():
        assert f"Segment family `{family['family']}`." in page, family["family"]
    assert len(catalog["nodes"]) >= len(_models(manifest)) - 1


@pytest.mark.browser
def test_docs_site_renders_the_customer_segments_page_with_its_definitions_in_chromium(
    browser, docs_site: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(docs_site.as_uri() + "#!/model/model.segment_warehouse.customer_segments")
    wait = WebDriverWait(browser, 90)
    wait.until(expected_conditions.presence_of_element_located((By.CSS_SELECTOR, ".app-title")))
    wait.until(lambda driver: "lifecycle_stage" in driver.find_element(By.TAG_NAME, "body").text)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "customer_segments" in text
    assert "Segment family" in text or "segment registry" in text
    _screenshot(browser, "docs_customer_segments")


# ---- the Superset dashboard (make bi) ------------------------------------------------------


@pytest.fixture(scope="module")
def superset_dashboard() -> dict:
    """What make bi provisioned, when it did and the server is up; else skip."""
    from segment_warehouse.bi import superset

    instance = superset.Superset()
    provisioned = instance.home / "provisioned.json"
    if not provisioned.exists() or not superset._is_up(instance):
        pytest.skip("Superset is not provisioned and running: run make refresh and make bi")
    superset.login(instance)
    summary = json.loads(provisioned.read_text())
    summary["instance"] = instance
    return summary


@pytest.mark.browser
def test_superset_dashboard_shows_every_chart_with_data(browser, superset_dashboard: dict) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    from segment_warehouse.bi import superset

    instance = superset_dashboard["instance"]
    specs = superset.dashboard_charts()
    # every chart's saved query returns rows from the published file
    for spec in specs:
        chart = superset_dashboard["charts"][spec.name]
        assert superset.chart_rows(instance, chart["id"]) > 0, spec.name

    browser.get(f"{instance.url}/login/")
    wait = WebDriverWait(browser, 120)
    wait.until(expected_conditions.presence_of_element_located((By.ID, "username")))
    browser.find_element(By.ID, "username").send_keys(superset.ADMIN_USER)
    browser.find_element(By.ID, "password").send_keys(instance.admin_password())
    browser.find_element(By.TAG_NAME, "button").click()
    wait.until(lambda driver: "/login" not in driver.current_url)
    browser.get(superset_dashboard["url"])
    wait.until(
        lambda driver: (
            len(
                driver.find_elements(
                    By.CSS_SELECTOR, ".dashboard-chart canvas, .dashboard-chart table"
                )
            )
            >= len(specs)
        )
    )
    body = browser.find_element(By.TAG_NAME, "body").text
    assert superset.DASHBOARD_TITLE in browser.title + browser.page_source
    for spec in specs:
        assert spec.name in body, spec.name
    for problem in ("No results were returned", "Unexpected error", "Data error"):
        assert problem not in body, problem
    charts = browser.find_elements(By.CSS_SELECTOR, ".dashboard-chart")
    assert len(charts) == len(specs)
    _screenshot(browser, "superset_dashboard")
