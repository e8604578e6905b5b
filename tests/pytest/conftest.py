"""Shared helpers: build the warehouse on a raw data directory into a temporary DuckDB file."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from segment_warehouse.demo.arrival import arrange_in_arrival_order
from segment_warehouse.pipeline.dbt_runner import DbtRun, run_dbt


@dataclass
class Warehouse:
    """A DuckDB file built by dbt from one raw data directory."""

    database: Path
    raw_dir: Path
    run: DbtRun

    def query(self, sql: str) -> pd.DataFrame:
        """Run a read-only query against the built warehouse."""
        with duckdb.connect(str(self.database), read_only=True) as connection:
            return connection.sql(sql).df()


def table_checksum(connection: duckdb.DuckDBPyConnection, relation: str) -> str:
    """md5 over the sorted text of every row of ``relation``: equal only for equal rows."""
    return connection.execute(
        "select md5(coalesce(string_agg(row_text, '|' order by row_text), '')) "
        f"from (select cast(t as varchar) as row_text from {relation} as t)"
    ).fetchall()[0][0]


# tables that record each run: compared on the latest run, without what names the run
RUN_RECORDS = {
    "intermediate.int_raw_tables_gated": "checked_at, previous_raw_rows, volume_drop_share",
    "marts.raw_row_reconciliation": "checked_at, previous_raw_rows, volume_drop_share",
}


def relations(database: Path) -> list[str]:
    """Every table and view of ``database`` as schema.name, sorted."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return [
            f"{schema}.{name}"
            for schema, name in connection.execute(
                """
                select schema_name, table_name from duckdb_tables() where not internal
                union all
                select schema_name, view_name from duckdb_views() where not internal
                order by 1, 2
                """
            ).fetchall()
        ]


def differing_relations(expected: Path, actual: Path) -> list[str]:
    """The relations of ``expected`` whose rows differ in ``actual`` (row checksums); the
    run records (:data:`RUN_RECORDS`) compared on their latest run."""
    differing = []
    with (
        duckdb.connect(str(expected), read_only=True) as one,
        duckdb.connect(str(actual), read_only=True) as other,
    ):
        for relation in relations(expected):
            compared = relation
            if relation in RUN_RECORDS:
                compared = (
                    f"(select * exclude ({RUN_RECORDS[relation]}) from {relation} "
                    f"where checked_at = (select max(checked_at) from {relation}))"
                )
            if table_checksum(one, compared) != table_checksum(other, compared):
                differing.append(relation)
    return differing


def reference_lifecycle(
    orders: pd.DataFrame, customers: pd.DataFrame, as_of: pd.Timestamp
) -> pd.Series:
    """Lifecycle stages recomputed in pandas from the order facts, per the README rules."""
    orders = orders[orders["order_date"] <= as_of]
    days = (
        orders[["customer_id", "order_date"]]
        .drop_duplicates()
        .sort_values(["customer_id", "order_date"])
    )
    days["gap"] = days.groupby("customer_id")["order_date"].diff().dt.days
    comeback = days[days["gap"] >= 180].groupby("customer_id")["order_date"].max()
    first = days.groupby("customer_id")["order_date"].min()
    last = days.groupby("customer_id")["order_date"].max()
    stages = {}
    for customer_id in customers["customer_id"]:
        if customer_id not in first.index:
            stages[customer_id] = "Prospect"
            continue
        since_first = (as_of - first[customer_id]).days
        since_last = (as_of - last[customer_id]).days
        since_comeback = (
            (as_of - comeback[customer_id]).days if customer_id in comeback.index else math.inf
        )
        if since_first < 30:
            stages[customer_id] = "New"
        elif since_comeback < 90:
            stages[customer_id] = "Reactivated"
        elif since_last < 90:
            stages[customer_id] = "Active"
        elif since_last < 180:
            stages[customer_id] = "At risk"
        else:
            stages[customer_id] = "Churned"
    return pd.Series(stages, name="expected_stage")


# dbt's parsed project (target/partial_parse.msgpack) per set of vars. dbt reparses
# the whole project (about 10 s) whenever the vars or the profile differ from the saved
# parse, so builds pass the raw directory and a relative database path through the
# environment, which leaves both alone, and start from the saved parse.
_saved_parses: dict[str, bytes] = {}


def build_warehouse(
    raw_dir: Path,
    work_dir: Path,
    *,
    variables: Mapping[str, Any] | None = None,
    check: bool = True,
    command: str = "build",
    select: str | None = None,
    unit_tests: bool = False,
    data_tests: bool = True,
) -> Warehouse:
    """Run ``dbt <command>`` (on the nodes ``select`` picks, default all) on the test target
    with raw data from ``raw_dir``, into ``work_dir/warehouse.duckdb``.

    dbt unit tests run only when ``unit_tests`` is set: they check SQL logic on fixed
    inputs, so one build (``demo_warehouse``) runs them and the others save the time.
    ``data_tests=False`` leaves out the data tests too, for builds whose outputs the test
    compares itself.
    """
    target_dir = work_dir / "target"
    target_dir.mkdir(parents=True, exist_ok=True)
    parse_key = json.dumps(dict(variables or {}), sort_keys=True, default=str)
    saved_parse = target_dir / "partial_parse.msgpack"
    if parse_key in _saved_parses and not saved_parse.exists():
        saved_parse.write_bytes(_saved_parses[parse_key])
    run = run_dbt(
        [
            command,
            *(["--select", select] if select else []),
            *([] if unit_tests or command != "build" else ["--exclude-resource-type", "unit_test"]),
            *([] if data_tests or command != "build" else ["--exclude-resource-type", "test"]),
        ],
        target="test",
        variables=variables,
        env={
            "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir),
            "SEGMENT_WAREHOUSE_TEST_DB": "warehouse.duckdb",
        },
        target_path=target_dir,
        log_path=work_dir / "logs",
        check=check,
        cwd=work_dir,
    )
    if saved_parse.exists():
        _saved_parses.setdefault(parse_key, saved_parse.read_bytes())
    return Warehouse(database=work_dir / "warehouse.duckdb", raw_dir=raw_dir, run=run)


@pytest.fixture(scope="session")
def demo_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated dataset with planted behaviours and 2 % bad rows, its
    incremental tables in arrival order (arrange_in_arrival_order)."""
    from segment_warehouse.demo.generator import generate

    out_dir = tmp_path_factory.mktemp("demo")
    generate(out_dir, customers=3000, seed=7, fmt="parquet", bad_row_share=0.02)
    arrange_in_arrival_order(out_dir / "raw")
    return out_dir


@pytest.fixture(scope="session")
def demo_warehouse(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The warehouse built from ``demo_dataset`` with default vars."""
    return build_warehouse(
        demo_dataset / "raw", tmp_path_factory.mktemp("demo_build"), unit_tests=True
    )


@pytest.fixture(scope="session")
def earlier_warehouse(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The warehouse built from ``demo_dataset`` as of 2025-06-30, a year before its end."""
    return build_warehouse(
        demo_dataset / "raw",
        tmp_path_factory.mktemp("earlier_build"),
        variables={"as_of_date": "2025-06-30"},
    )


@pytest.fixture(scope="session")
def read_truth(demo_dataset: Path) -> Callable[[str], pd.DataFrame]:
    """Reader for the generator's ground-truth files (never read by any model)."""

    def read(name: str) -> pd.DataFrame:
        return pd.read_parquet(demo_dataset / "ground_truth" / f"{name}.parquet")

    return read


# The test files that build warehouses, longest first: pytest-xdist hands groups of tests
# to the workers in collection order, so starting with the longest lets them finish
# together. Each file is one group (its module fixtures are built once); files that share
# a costly session fixture form one group, so that only one worker builds it.
_LONGEST_FIRST = (
    "test_job.py",
    "test_daily_runs.py",
    "test_erasure.py",
    "test_published_privacy.py",
    "test_bad_input.py",
    "test_dbt_end_to_end.py",
    "test_clusters.py",
    "test_incremental.py",
    "test_bi.py",
    "test_segment_families.py",
    "test_clv_backtest.py",
    "test_value_predictions.py",
)
_SHARED_GROUPS = {
    "test_dbt_end_to_end.py": "earlier_warehouse",
    "test_clv_backtest.py": "earlier_warehouse",
    "test_identity_resolution.py": "earlier_warehouse",
}


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Group the tests per file (shared fixtures together) and run the longest first.

    Runs first: pytest-xdist reads the xdist_group marks in its own hook of this name.
    """

    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return _LONGEST_FIRST.index(name) if name in _LONGEST_FIRST else len(_LONGEST_FIRST)

    for item in items:
        item.add_marker(pytest.mark.xdist_group(_SHARED_GROUPS.get(item.path.name, item.path.name)))
    items.sort(key=rank)
