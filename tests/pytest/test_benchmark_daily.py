"""The daily benchmark's own parts (scripts/benchmark_daily.py), on small data.

The hand-written DuckDB pass is the reference the core path is measured against, so it
must do the work the core path does: on a small demo warehouse its lifecycle stages, order
facts and RFM scores agree with customer_lifecycle, dim_customers and customer_rfm. The
warehouse counts store purchases, resolves identities, converts amounts into the reporting
currency and quarantines rows by its own rules, which the pass does not; so the comparison
covers the customers without a store purchase, and the tolerances below leave room for
identity merges and quarantine rules (lifecycle, dates, recency and frequency) and for the
currency conversion (monetary).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import Warehouse, build_warehouse

from segment_warehouse.demo.generator import generate
from segment_warehouse.pipeline.measure import CommandRun

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "benchmark_daily.py"
AS_OF_DATE = dt.date(2026, 3, 31)


def _load_script():
    spec = importlib.util.spec_from_file_location("benchmark_daily", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


benchmark_daily = _load_script()


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """1,500 demo customers."""
    out_dir = tmp_path_factory.mktemp("daily_demo")
    generate(out_dir, customers=1500, seed=11, fmt="parquet")
    return out_dir / "raw"


@pytest.fixture(scope="module")
def core_warehouse(raw_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """The benchmark's core path built as of AS_OF_DATE (no tests: the outputs are compared)."""
    return build_warehouse(
        raw_dir,
        tmp_path_factory.mktemp("daily_core"),
        select=benchmark_daily.CORE_SELECT,
        variables={"as_of_date": AS_OF_DATE.isoformat()},
        data_tests=False,
    )


@pytest.fixture(scope="module")
def agreement(raw_dir: Path, core_warehouse: Warehouse) -> dict[str, float]:
    """Share of customers without a store purchase on which pass and warehouse agree."""
    sql = benchmark_daily.reference_sql(
        raw_dir, AS_OF_DATE, benchmark_daily.lifecycle_thresholds(), memory_limit="2GB"
    )
    with duckdb.connect() as connection:
        connection.execute(sql)
        connection.execute(f"attach '{core_warehouse.database}' as warehouse (read_only)")
        row = connection.execute(
            """
            select
                count(*),
                avg(cast(pass.lifecycle_stage = lifecycle.lifecycle_stage as integer)),
                avg(cast(pass.order_count = customers.order_count as integer)),
                avg(cast(pass.last_order_date = customers.last_order_date as integer)),
                avg(cast(pass.first_order_date = customers.first_order_date as integer)),
                avg(cast(abs(pass.recency_score - rfm.recency_score) <= 1 as integer))
                    filter (where rfm.recency_score is not null),
                avg(cast(abs(pass.frequency_score - rfm.frequency_score) <= 1 as integer))
                    filter (where rfm.recency_score is not null),
                avg(cast(abs(pass.monetary_score - rfm.monetary_score) <= 1 as integer))
                    filter (where rfm.recency_score is not null)
            from customer_view as pass
            inner join warehouse.marts.dim_customers as customers
                on pass.customer_id = customers.customer_id
            inner join warehouse.marts.customer_lifecycle as lifecycle
                on pass.customer_id = lifecycle.customer_id
            inner join warehouse.marts.customer_rfm as rfm
                on pass.customer_id = rfm.customer_id
            where coalesce(customers.store_order_count, 0) = 0
            """
        ).fetchall()[0]
    names = ["customers", "lifecycle", "order count", "last order", "first order"]
    return dict(zip([*names, "recency", "frequency", "monetary"], row, strict=True))


def test_the_pass_covers_most_customers(agreement: dict[str, float]) -> None:
    """The comparison is not vacuous: most of the 1,500 customers are in it."""
    assert agreement["customers"] >= 900


@pytest.mark.parametrize(
    ("measure", "at_least"),
    [
        ("lifecycle", 0.97),
        ("order count", 0.93),
        ("last order", 0.97),
        ("first order", 0.97),
        ("recency", 0.97),
        ("frequency", 0.97),
        ("monetary", 0.85),
    ],
)
def test_the_pass_agrees_with_the_warehouse(
    agreement: dict[str, float], measure: str, at_least: float
) -> None:
    """Lifecycle stages and order facts equal, R/F/M scores within one, on most customers."""
    assert agreement[measure] >= at_least, agreement


def test_the_pass_stages_every_customer_once(raw_dir: Path) -> None:
    """One row per raw customer id; purchasers scored 1-5, the others Prospect unscored."""
    sql = benchmark_daily.reference_sql(
        raw_dir, AS_OF_DATE, benchmark_daily.lifecycle_thresholds(), memory_limit="2GB"
    )
    with duckdb.connect() as connection:
        connection.execute(sql)
        rows, ids, raw_ids = connection.execute(
            "select count(*), count(distinct customer_id), (select count(distinct customer_id) "
            f"from read_parquet('{raw_dir / 'customers.parquet'}')) from customer_view"
        ).fetchall()[0]
        unscored_purchasers, scored_prospects, out_of_range = connection.execute(
            """
            select
                count(*) filter (where order_count > 0 and recency_score is null),
                count(*) filter (where lifecycle_stage = 'Prospect' and recency_score is not null),
                count(*) filter (
                    where least(recency_score, frequency_score, monetary_score) < 1
                    or greatest(recency_score, frequency_score, monetary_score) > 5
                )
            from customer_view
            """
        ).fetchall()[0]
    assert rows == ids == raw_ids
    assert (unscored_purchasers, scored_prospects, out_of_range) == (0, 0, 0)


def test_day_one_is_the_day_closest_to_the_share() -> None:
    """100 orders a day; day 1 is the first with 0.3 % of the orders before it (ties: later)."""
    start = dt.date(2026, 1, 1)
    arrivals = {start + dt.timedelta(days=offset): 100 for offset in range(400)}
    last = start + dt.timedelta(days=399)
    # day n adds 100 orders to 100 x n: a share of 1/n, closest to 0.3 % at n = 333
    day = benchmark_daily.choose_next_day(arrivals, last, 0.003, 399)
    assert (day - start).days == 333
    # the last order date is never day 1, even when its share is the target
    arrivals[last] = 100 * 399
    assert benchmark_daily.choose_next_day(arrivals, last, 1.0, 5) < last
    # a spike that matches the target wins, and so does the later of two equal days
    spike = start + dt.timedelta(days=200)
    arrivals[spike] = 100 * 200
    assert benchmark_daily.choose_next_day(arrivals, last, 1.0, 399) == spike
    with pytest.raises(ValueError, match="no orders"):
        benchmark_daily.choose_next_day({}, last, 0.003, 10)


def test_day_files_are_prefixes_in_arrival_order(raw_dir: Path, tmp_path: Path) -> None:
    """Day-0 rows are the first rows of the day-1 files; the increment is what arrived between."""
    arrivals, last_dated = benchmark_daily.daily_order_arrivals(raw_dir)
    day1 = benchmark_daily.choose_next_day(arrivals, last_dated, 0.003, 365)
    cutoffs = {
        "day 0": dt.datetime.combine(day1, dt.time(), dt.UTC),
        "day 1": dt.datetime.combine(day1, dt.time(), dt.UTC) + dt.timedelta(days=1),
    }
    dirs = {"day 0": tmp_path / "day0", "day 1": tmp_path / "day1"}
    counts = benchmark_daily.write_day_files(raw_dir, dirs, cutoffs)
    assert counts["day 1"]["orders"] - counts["day 0"]["orders"] == arrivals[day1]
    with duckdb.connect() as connection:
        for table in ("orders", "order_lines", "web_sessions"):
            first, later = (
                f"read_parquet('{dirs[day] / f'{table}.parquet'}', file_row_number = true)"
                for day in ("day 0", "day 1")
            )
            differing = connection.execute(
                f"select count(*) from (from {first} except all "
                f"from {later} where file_row_number < {counts['day 0'][table]})"
            ).fetchall()[0][0]
            assert counts["day 0"][table] < counts["day 1"][table]
            assert differing == 0, table
        assert sorted(path.name for path in dirs["day 0"].iterdir()) == sorted(
            path.name for path in raw_dir.iterdir()
        )


def test_the_section_marks_each_goal() -> None:
    """Ratios from the runs, each goal marked met or not."""

    def run(name: str, seconds: float, models: int | None = 10):
        return benchmark_daily.Run(
            name, "what", CommandRun(seconds=seconds, peak_rss_mib=100.0), [("m", 1.0)], models
        )

    runs = {
        "reference": run("hand-written DuckDB pass", 10.0, None),
        "core": run("core path in dbt", 50.0),
        "first": run("full first run", 200.0),
        "next": run("next day", 20.0),
        "nothing new": run("nothing new", 3.0, None),
    }
    counts = {
        "day 0": {"orders": 1000, "order_lines": 2000, "web_sessions": 3000},
        "day 1": {"orders": 1003, "order_lines": 2006, "web_sessions": 3010},
    }
    days = {"day 0": dt.date(2026, 1, 1), "day 1": dt.date(2026, 1, 2)}
    markdown = benchmark_daily.render(
        1000, 42, days, counts, runs, "python x", dt.datetime(2026, 12, 6, tzinfo=dt.UTC)
    )
    assert "| core path in dbt | what | 50.0 | 100 | 5.0x the reference | ≤ 4x | **no** |" in (
        markdown
    )
    assert "| next day | what | 20.0 | 100 | 10% of the full first run | ≤ 15% | yes |" in markdown
    assert "| nothing new | dbt did not run | |" in markdown
    assert "**0.30%** of day 0's" in markdown


def _marts_snapshot(path: Path, customers: list[tuple], segments: list[tuple]) -> Path:
    """A snapshot of the two per-person marts with the given rows (a few columns each)."""
    with duckdb.connect(str(path)) as connection:
        connection.execute(
            "create table dim_customers "
            "(customer_id varchar, country varchar, order_count integer, as_of_date date)"
        )
        connection.executemany("insert into dim_customers values (?, ?, ?, ?)", customers)
        connection.execute(
            "create table customer_segments "
            "(customer_id varchar, lifecycle_stage varchar, churn_score double, as_of_date date)"
        )
        connection.executemany("insert into customer_segments values (?, ?, ?, ?)", segments)
    return path


def test_a_day_changes_the_people_planted(tmp_path: Path) -> None:
    """Planted: of four people on day 0, one is gone by day 1 and one is new; one changes
    country (a value to null counts), one changes order count and churn score; the
    as-of date moves for everyone and is not a change. The counts and the ranking of
    the columns follow."""
    day0, day1 = dt.date(2026, 1, 1), dt.date(2026, 1, 2)
    before = _marts_snapshot(
        tmp_path / "day0.duckdb",
        [("a", "NL", 1, day0), ("b", "DE", 2, day0), ("c", "FR", 3, day0), ("d", "BE", 4, day0)],
        [("a", "New", 0.1, day0), ("b", "Active", 0.2, day0), ("c", "Active", 0.3, day0),
         ("d", "Lapsed", 0.4, day0)],
    )  # fmt: skip
    after = _marts_snapshot(
        tmp_path / "day1.duckdb",
        [("a", "NL", 1, day1), ("b", None, 2, day1), ("c", "FR", 4, day1), ("e", "PT", 1, day1)],
        [("a", "New", 0.1, day1), ("b", "Active", 0.2, day1), ("c", "Active", 0.35, day1),
         ("e", "New", 0.5, day1)],
    )  # fmt: skip
    changes = {change.table: change for change in benchmark_daily.table_changes(before, after)}
    customers = changes["dim_customers"]
    assert (customers.people, customers.added, customers.removed, customers.changed) == (4, 1, 1, 2)
    assert customers.columns == [("country", 1), ("order_count", 1)]
    segments = changes["customer_segments"]
    assert (segments.people, segments.added, segments.removed, segments.changed) == (4, 1, 1, 1)
    assert segments.columns == [("churn_score", 1)]
    lines = benchmark_daily.render_changes(list(changes.values()))
    assert "| `dim_customers` | 4 | 1 | 1 | 2 (50.0%) | `country` 25.0%, `order_count` 25.0% |" in (
        lines
    )


def test_snapshot_copies_the_per_person_marts(tmp_path: Path) -> None:
    """The snapshot holds each mart of CHANGE_TABLES as the warehouse had it."""
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute("create schema marts")
        for table in benchmark_daily.CHANGE_TABLES:
            connection.execute(f"create table marts.{table} as select 'x' as customer_id, 1 as n")
    snapshot = tmp_path / "snapshot.duckdb"
    benchmark_daily.snapshot_marts(warehouse, snapshot)
    with duckdb.connect(str(snapshot), read_only=True) as connection:
        for table in benchmark_daily.CHANGE_TABLES:
            assert connection.execute(f"select * from {table}").fetchall() == [("x", 1)]
