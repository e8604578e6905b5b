"""Apache Superset as code: its own virtualenv, the published DuckDB file, a dashboard.

``make bi`` runs :func:`main`, which

1. installs Superset with duckdb-engine into ``.venv-superset`` (requirements/superset.txt;
   DuckDB 1.x there, which reads the published file's v1.0.0 storage format),
2. writes ``warehouse/superset/superset_config.py`` (metadata in SQLite beside it), upgrades
   the metadata database, creates the admin user and starts ``superset run`` on a local port,
3. registers the published file read-only (``duckdb:///<path>?access_mode=read_only``) and
   creates, through Superset's REST API, the datasets, the charts and the "Customer segments"
   dashboard (slug ``customer-segments``): segment sizes, revenue share per segment and the
   lifecycle stages over the run dates.

Every step is idempotent: a second run reuses the environment, the server and the objects it
created (charts and datasets are found by name and updated). Superset only ever reads the
published copy, so it never blocks the scheduled job; its engine uses a new connection per
query, so it sees a newly published file on the next query.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from segment_warehouse.paths import DEFAULT_PUBLISHED, project_paths

VENV_NAME = ".venv-superset"
REQUIREMENTS_FILE = Path("requirements") / "superset.txt"
DEFAULT_PORT = 8088
ADMIN_USER = "admin"
DATABASE_NAME = "segment_warehouse (published)"
DASHBOARD_TITLE = "Customer segments"
DASHBOARD_SLUG = "customer-segments"
STARTUP_SECONDS = 180


class SupersetError(RuntimeError):
    """Provisioning failed: a missing published file, an install or an API call."""


@dataclass(frozen=True)
class ChartSpec:
    """A chart of the dashboard: its dataset, visualisation and query."""

    name: str
    dataset: str
    viz_type: str
    form_data: dict[str, Any]
    query: dict[str, Any]
    width: int = 6


LIFECYCLE = "segment_family = 'lifecycle'"
RFM = "segment_family = 'rfm'"


def _metric(label: str, sql: str) -> dict[str, Any]:
    return {"expressionType": "SQL", "sqlExpression": sql, "label": label}


def _filter(sql: str) -> dict[str, Any]:
    return {"clause": "WHERE", "expressionType": "SQL", "sqlExpression": sql}


def dashboard_charts() -> list[ChartSpec]:
    """Describe the charts of the Customer segments dashboard."""
    customers = _metric("customers", "SUM(customer_count)")
    revenue_share = _metric("revenue share", "SUM(revenue_share)")
    lifecycle = _filter(LIFECYCLE)
    return [
        ChartSpec(
            name="Segment sizes: lifecycle stages",
            dataset="segment_summary",
            viz_type="pie",
            form_data={
                "groupby": ["segment"],
                "metric": customers,
                "adhoc_filters": [lifecycle],
                "row_limit": 100,
                "show_labels": True,
                "label_type": "key_percent",
                "show_legend": True,
            },
            query={"columns": ["segment"], "metrics": [customers], "where": LIFECYCLE},
        ),
        ChartSpec(
            name="Revenue share per RFM segment",
            dataset="segment_summary",
            viz_type="echarts_timeseries_bar",
            form_data={
                "x_axis": "segment",
                "metrics": [revenue_share],
                "groupby": [],
                "adhoc_filters": [_filter(RFM)],
                "orientation": "vertical",
                "row_limit": 100,
                "y_axis_format": ".0%",
                "show_legend": False,
            },
            query={"columns": ["segment"], "metrics": [revenue_share], "where": RFM},
        ),
        ChartSpec(
            name="Lifecycle stages over the run dates",
            dataset="segment_size_history",
            viz_type="echarts_timeseries_line",
            form_data={
                "x_axis": "as_of_date",
                "time_grain_sqla": "P1D",
                "metrics": [customers],
                "groupby": ["segment"],
                "adhoc_filters": [lifecycle],
                "row_limit": 10000,
                "markerEnabled": True,
                "show_legend": True,
            },
            query={
                "columns": ["as_of_date", "segment"],
                "metrics": [customers],
                "where": LIFECYCLE,
            },
            width=12,
        ),
        ChartSpec(
            name="Segment sizes of every family",
            dataset="segment_summary",
            viz_type="table",
            form_data={
                "query_mode": "aggregate",
                "groupby": ["segment_family", "segment"],
                "metrics": [customers, _metric("share", "SUM(customer_share)")],
                "adhoc_filters": [],
                "row_limit": 1000,
                "order_desc": True,
            },
            query={"columns": ["segment_family", "segment"], "metrics": [customers], "where": ""},
        ),
    ]


# ---- environment, configuration and server -------------------------------------------------


@dataclass
class Superset:
    """A local Superset: where it lives, how to reach it, and a logged-in API session."""

    port: int = DEFAULT_PORT
    home: Path = field(default_factory=lambda: project_paths().superset_home)
    """Superset's config, metadata database and logs (default warehouse/superset)."""
    venv: Path = field(default_factory=lambda: project_paths().root / VENV_NAME)
    """The virtualenv Superset is installed in (default .venv-superset in the project)."""
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        """Base URL of the web server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        """The superset_config.py this project writes."""
        return self.home / "superset_config.py"

    @property
    def password_file(self) -> Path:
        """The admin password, generated once, readable by the owner only."""
        return self.home / "admin_password"

    @property
    def pid_file(self) -> Path:
        """Process id of the running web server."""
        return self.home / "superset.pid"

    def env(self) -> dict[str, str]:
        """Environment for the superset command."""
        return {
            **os.environ,
            "SUPERSET_CONFIG_PATH": str(self.config_path),
            "FLASK_APP": "superset",
            "SUPERSET_HOME": str(self.home),
        }

    def superset(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the superset CLI of the virtualenv; raise with its output on failure."""
        done = subprocess.run(
            [str(self.venv / "bin" / "superset"), *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise SupersetError(
                f"superset {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
            )
        return done

    def admin_password(self) -> str:
        """Return the admin password (``admin_password`` under HOME), created on first use."""
        if not self.password_file.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            self.password_file.write_text(secrets.token_urlsafe(16))
            self.password_file.chmod(0o600)
        return self.password_file.read_text().strip()


def install(superset: Superset) -> None:
    """Create .venv-superset and install requirements/superset.txt (skipped when current)."""
    stamp = superset.venv / ".installed-stamp"
    requirements = project_paths().root / REQUIREMENTS_FILE
    if stamp.exists() and stamp.stat().st_mtime >= requirements.stat().st_mtime:
        return
    if not (superset.venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(superset.venv)], check=True)
    pip = [str(superset.venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(requirements)], check=True)
    stamp.touch()


def write_config(superset: Superset) -> None:
    """Write superset_config.py: SQLite metadata beside it and a generated secret key."""
    superset.home.mkdir(parents=True, exist_ok=True)
    key_file = superset.home / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(42))
        key_file.chmod(0o600)
    superset.config_path.write_text(
        "# Written by segment_warehouse.bi.superset (make bi); local use only.\n"
        "from pathlib import Path\n"
        "_HOME = Path(__file__).resolve().parent\n"
        "SECRET_KEY = (_HOME / 'secret_key').read_text().strip()\n"
        "SQLALCHEMY_DATABASE_URI = f\"sqlite:///{_HOME / 'superset.db'}\"\n"
        "WTF_CSRF_ENABLED = True\n"
        "TALISMAN_ENABLED = False\n"
        "FEATURE_FLAGS = {'DASHBOARD_RBAC': False}\n"
        "SUPERSET_WEBSERVER_TIMEOUT = 120\n"
        "# charts read the published file through a new connection per query\n"
        "DATA_CACHE_CONFIG = {'CACHE_TYPE': 'NullCache'}\n"
    )


def initialise(superset: Superset) -> None:
    """Upgrade the metadata database, create the admin user, load roles and permissions."""
    superset.superset("db", "upgrade")
    users = superset.superset("fab", "list-users").stdout
    if f"username:{ADMIN_USER}" not in users.replace(" ", ""):
        superset.superset(
            "fab",
            "create-admin",
            "--username",
            ADMIN_USER,
            "--firstname",
            "Segment",
            "--lastname",
            "Warehouse",
            "--email",
            "admin@segment-warehouse.example",
            "--password",
            superset.admin_password(),
        )
    superset.superset("init")


def _is_up(superset: Superset) -> bool:
    try:
        return requests.get(f"{superset.url}/health", timeout=2).text.strip() == "OK"
    except requests.RequestException:
        return False


def start(superset: Superset) -> None:
    """Start ``superset run`` in the background unless it already answers /health."""
    if _is_up(superset):
        return
    log = (superset.home / "superset.log").open("a")
    process = subprocess.Popen(
        [
            str(superset.venv / "bin" / "superset"),
            "run",
            "--host",
            "127.0.0.1",
            "--port",
            str(superset.port),
            "--with-threads",
        ],
        env=superset.env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    superset.pid_file.write_text(str(process.pid))
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SupersetError(
                f"superset run exited with {process.returncode}; "
                f"see {superset.home / 'superset.log'}"
            )
        if _is_up(superset):
            return
        time.sleep(1)
    raise SupersetError(f"Superset did not answer {superset.url}/health in {STARTUP_SECONDS} s")


def stop(superset: Superset) -> bool:
    """Stop the web server started by :func:`start`; False when none was running."""
    if not superset.pid_file.exists():
        return False
    pid = int(superset.pid_file.read_text())
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    superset.pid_file.unlink()
    return True


# ---- the REST API ----------------------------------------------------------------------------


def login(superset: Superset) -> None:
    """Log in as the admin: a bearer token and a CSRF token on the session."""
    response = superset.session.post(
        f"{superset.url}/api/v1/security/login",
        json={
            "username": ADMIN_USER,
            "password": superset.admin_password(),
            "provider": "db",
            "refresh": True,
        },
        timeout=30,
    )
    _check(response, "login")
    superset.session.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
    csrf = superset.session.get(f"{superset.url}/api/v1/security/csrf_token/", timeout=30)
    _check(csrf, "csrf token")
    superset.session.headers["X-CSRFToken"] = csrf.json()["result"]
    superset.session.headers["Referer"] = superset.url


def _check(response: requests.Response, what: str) -> None:
    if response.status_code >= 400:
        raise SupersetError(
            f"Superset API {what}: HTTP {response.status_code}: {response.text[:500]}"
        )


def api(superset: Superset, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
    """Call the REST API; raise SupersetError naming ``what`` on an error status."""
    response = superset.session.request(method, f"{superset.url}{path}", timeout=120, **kwargs)
    _check(response, what)
    return response.json() if response.content else {}


def _find(superset: Superset, resource: str, column: str, value: str) -> int | None:
    query = json.dumps({"filters": [{"col": column, "opr": "eq", "value": value}]})
    result = api(superset, "GET", f"/api/v1/{resource}/", f"find {resource}", params={"q": query})
    ids = [row["id"] for row in result.get("result", [])]
    return ids[0] if ids else None


def register_database(superset: Superset, published: Path) -> int:
    """Register the published DuckDB file read-only; return the database id."""
    body = {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": f"duckdb:///{published}?access_mode=read_only",
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "extra": json.dumps({"engine_params": {"connect_args": {"read_only": True}}}),
    }
    existing = _find(superset, "database", "database_name", DATABASE_NAME)
    if existing is None:
        return api(superset, "POST", "/api/v1/database/", "create database", json=body)["id"]
    api(superset, "PUT", f"/api/v1/database/{existing}", "update database", json=body)
    return existing


def register_dataset(superset: Superset, database_id: int, table: str) -> int:
    """Register one published table (schema main) as a dataset; return its id."""
    existing = _find(superset, "dataset", "table_name", table)
    if existing is not None:
        api(superset, "PUT", f"/api/v1/dataset/{existing}/refresh", f"refresh dataset {table}")
        return existing
    body = {"database": database_id, "schema": "main", "table_name": table}
    return api(superset, "POST", "/api/v1/dataset/", f"create dataset {table}", json=body)["id"]


def query_context(spec: ChartSpec, dataset_id: int, form_data: dict[str, Any]) -> dict[str, Any]:
    """Build the query Superset runs for the chart (what /api/v1/chart/data answers)."""
    return {
        "datasource": {"id": dataset_id, "type": "table"},
        "force": False,
        "queries": [
            {
                "columns": spec.query["columns"],
                "metrics": spec.query["metrics"],
                "extras": {"where": spec.query["where"]},
                "row_limit": form_data.get("row_limit", 1000),
            }
        ],
        "form_data": form_data,
        "result_format": "json",
        "result_type": "full",
    }


def create_chart(superset: Superset, spec: ChartSpec, dataset_id: int) -> int:
    """Create or update one chart; returns its id."""
    form_data = {
        **spec.form_data,
        "viz_type": spec.viz_type,
        "datasource": f"{dataset_id}__table",
    }
    body = {
        "slice_name": spec.name,
        "viz_type": spec.viz_type,
        "datasource_id": dataset_id,
        "datasource_type": "table",
        "params": json.dumps(form_data),
        "query_context": json.dumps(query_context(spec, dataset_id, form_data)),
    }
    existing = _find(superset, "chart", "slice_name", spec.name)
    if existing is None:
        return api(superset, "POST", "/api/v1/chart/", f"create chart {spec.name}", json=body)["id"]
    api(superset, "PUT", f"/api/v1/chart/{existing}", f"update chart {spec.name}", json=body)
    return existing


def dashboard_layout(charts: Sequence[tuple[int, ChartSpec]]) -> dict[str, Any]:
    """position_json of the dashboard: the charts in rows, 12 columns wide."""
    layout: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": DASHBOARD_TITLE}},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
    }
    row: list[str] = []
    width = 0
    rows: list[list[str]] = [row]
    for chart_id, spec in charts:
        if width + spec.width > 12:
            row, width = [], 0
            rows.append(row)
        key = f"CHART-{chart_id}"
        row.append(key)
        width += spec.width
        layout[key] = {
            "type": "CHART",
            "id": key,
            "children": [],
            "meta": {
                "chartId": chart_id,
                "sliceName": spec.name,
                "width": spec.width,
                "height": 60,
            },
        }
    for number, children in enumerate(rows, start=1):
        key = f"ROW-{number}"
        layout["GRID_ID"]["children"].append(key)
        layout[key] = {
            "type": "ROW",
            "id": key,
            "children": children,
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for child in children:
            layout[child]["parents"] = ["ROOT_ID", "GRID_ID", key]
    return layout


def create_dashboard(superset: Superset, charts: Sequence[tuple[int, ChartSpec]]) -> int:
    """Create or update the Customer segments dashboard with the charts; returns its id."""
    body = {
        "dashboard_title": DASHBOARD_TITLE,
        "slug": DASHBOARD_SLUG,
        "published": True,
        "position_json": json.dumps(dashboard_layout(charts)),
        "json_metadata": json.dumps({"refresh_frequency": 0, "color_scheme": "supersetColors"}),
    }
    existing = _find(superset, "dashboard", "slug", DASHBOARD_SLUG)
    if existing is None:
        dashboard_id = api(superset, "POST", "/api/v1/dashboard/", "create dashboard", json=body)[
            "id"
        ]
    else:
        dashboard_id = existing
        api(superset, "PUT", f"/api/v1/dashboard/{existing}", "update dashboard", json=body)
    for chart_id, spec in charts:
        api(
            superset,
            "PUT",
            f"/api/v1/chart/{chart_id}",
            f"add {spec.name} to the dashboard",
            json={"dashboards": [dashboard_id]},
        )
    # charts of an earlier provisioning that the dashboard no longer shows
    wanted = {chart_id for chart_id, _ in charts}
    attached = api(superset, "GET", f"/api/v1/dashboard/{dashboard_id}/charts", "list charts")
    for chart in attached.get("result", []):
        if chart["id"] not in wanted:
            api(
                superset,
                "PUT",
                f"/api/v1/chart/{chart['id']}",
                f"remove chart {chart['id']} from the dashboard",
                json={"dashboards": []},
            )
    return dashboard_id


def chart_rows(superset: Superset, chart_id: int) -> int:
    """Rows the chart's saved query returns now (what the dashboard would draw)."""
    chart = api(superset, "GET", f"/api/v1/chart/{chart_id}", "read chart")["result"]
    context = json.loads(chart["query_context"])
    result = api(superset, "POST", "/api/v1/chart/data", "chart data", json=context)
    return sum(len(entry.get("data") or []) for entry in result["result"])


def provision(superset: Superset, published: Path) -> dict[str, Any]:
    """Register the published file, datasets, charts and the dashboard; report what exists."""
    login(superset)
    database_id = register_database(superset, published)
    datasets: dict[str, int] = {}
    charts = []
    for spec in dashboard_charts():
        if spec.dataset not in datasets:
            datasets[spec.dataset] = register_dataset(superset, database_id, spec.dataset)
        charts.append((create_chart(superset, spec, datasets[spec.dataset]), spec))
    dashboard_id = create_dashboard(superset, charts)
    return {
        "url": f"{superset.url}/superset/dashboard/{DASHBOARD_SLUG}/",
        "dashboard_id": dashboard_id,
        "database_id": database_id,
        "datasets": datasets,
        "charts": {
            spec.name: {"id": chart_id, "rows": chart_rows(superset, chart_id)}
            for chart_id, spec in charts
        },
    }


PROG = "segment-warehouse bi"


def main(argv: Sequence[str] | None = None, prog: str = PROG) -> int:
    """Entry point of ``segment-warehouse bi``; returns the exit code."""
    project = project_paths()
    parser = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Provision Apache Superset as code: install it into .venv-superset, start it "
            "locally, register the published DuckDB file read-only and create the "
            "'Customer segments' dashboard through its API."
        ),
    )
    parser.add_argument(
        "--published",
        type=Path,
        default=project.published,
        help=(
            "published DuckDB file (default $SEGMENT_WAREHOUSE_PUBLISHED_DB or "
            f"{DEFAULT_PUBLISHED})"
        ),
    )
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="web server port (8088)")
    parser.add_argument("--stop", action="store_true", help="stop the web server and exit")
    args = parser.parse_args(argv)
    superset = Superset(port=args.port)
    if args.stop:
        print("stopped" if stop(superset) else "no Superset started by make bi is running")
        return 0
    published = args.published.resolve()
    try:
        if not published.is_file():
            raise SupersetError(
                f"{published} does not exist: run the scheduled job first (make refresh)"
            )
        install(superset)
        write_config(superset)
        initialise(superset)
        start(superset)
        summary = provision(superset, published)
    except (SupersetError, subprocess.CalledProcessError, requests.RequestException) as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    (superset.home / "provisioned.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"Dashboard: {summary['url']}  (user {ADMIN_USER}, password in {superset.password_file})")
    return 0
