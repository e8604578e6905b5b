"""A week of daily runs builds exactly the warehouse a rebuild of the week builds.

Day by day, the orders and order lines files grow by the orders placed that day (each
day's files are a prefix of the next day's, as an append-only export writes them), and the
warehouse is built incrementally as of that day: incremental base models, then everything
downstream, the segment and identity histories and the cluster model's memory included. A
second warehouse is built from scratch on the last day's files and replays the same seven
dates. Every table and view of the two, staging to marts and every history, must hold the
same rows: the incremental path and the as-of semantics together lose, add or move nothing.

The other tables, web sessions and store transactions included, are the same every day:
identity resolution links records on everything it knows, whatever their date, so a
replay that knew later sessions could merge a person earlier than the daily runs did
(docs/identity.md). Their incremental path is tested in test_incremental.py.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import duckdb
import pytest
from conftest import Warehouse, build_warehouse, differing_relations, relations

DAYS = 7
HISTORIES = (
    "marts.segment_membership_history",
    "marts.segment_size_history",
    "marts.segment_transitions",
    "marts.identity_history",
)


# the orders' and order lines' rows with the day their order was placed: an order is known
# from the day it is placed (an export of that day would hold it; later edits replace it)
_PLACED_SQL = {
    "orders": """
        select *, row_number() over () as position,
            try_cast(nullif(trim(ordered_at), '') as timestamptz) as placed_at
        from read_parquet('{raw}/orders.parquet')
    """,
    "order_lines": """
        select order_lines.*, orders.placed_at
        from (
            select *, row_number() over () as position
            from read_parquet('{raw}/order_lines.parquet')
        ) as order_lines
        left join (
            select order_id, min(try_cast(nullif(trim(ordered_at), '') as timestamptz)) as placed_at
            from read_parquet('{raw}/orders.parquet')
            group by order_id
        ) as orders on order_lines.order_id = orders.order_id
    """,
}


def _last_days(raw_dir: Path) -> list[dt.date]:
    """The ``DAYS`` days that end on the latest order date (before today)."""
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        latest = connection.execute(
            f"select max(placed_at)::date from ({_PLACED_SQL['orders'].format(raw=raw_dir)}) "
            "where placed_at < now()"
        ).fetchall()[0][0]
    return [latest - dt.timedelta(days=DAYS - 1 - offset) for offset in range(DAYS)]


def _write_day(source: Path, target: Path, day: dt.date) -> None:
    """The raw files as they stood at the end of ``day``: the orders' and order lines'
    rows of orders placed by then (and those without a readable date), ordered by that day
    and then as in the source, so that each day's file is a prefix of the next; the other
    tables as they are."""
    target.mkdir(parents=True)
    end = f"timestamptz '{day + dt.timedelta(days=1)} 00:00:00+00'"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for path in source.glob("*.parquet"):
            if path.stem in _PLACED_SQL:
                rows = (
                    f"select * exclude (placed_at, position) "
                    f"from ({_PLACED_SQL[path.stem].format(raw=source)}) "
                    f"where placed_at is null or placed_at < {end} "
                    "order by placed_at::date nulls first, position"
                )
            else:
                rows = f"select * from read_parquet('{path}')"
            connection.execute(f"copy ({rows}) to '{target / path.name}' (format parquet)")


@pytest.fixture(scope="module")
def week(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The warehouse after a week of daily runs, and the one that rebuilt the week."""
    work = tmp_path_factory.mktemp("daily_runs")
    days = _last_days(demo_dataset / "raw")
    daily, rebuilt = work / "daily", work / "rebuilt"
    grown: dict[dt.date, int] = {}
    for day in days:
        raw = work / f"raw_{day}"
        _write_day(demo_dataset / "raw", raw, day)
        with duckdb.connect() as connection:
            grown[day] = connection.execute(
                f"select count(*) from read_parquet('{raw}/orders.parquet')"
            ).fetchall()[0][0]
        incremental = build_warehouse(
            raw, daily, variables={"as_of_date": str(day)}, data_tests=False
        )
    last = work / f"raw_{days[-1]}"
    for day in days:
        full = build_warehouse(last, rebuilt, variables={"as_of_date": str(day)}, data_tests=False)
    return {"days": days, "grown": grown, "daily": incremental, "rebuilt": full}


def test_the_days_add_orders_and_the_history_holds_every_day(week: dict) -> None:
    """The equality below is worth something only if every day brought new orders and
    every day left its own rows in the histories."""
    counts = [week["grown"][day] for day in week["days"]]
    assert all(later > earlier for earlier, later in itertools.pairwise(counts))
    daily: Warehouse = week["daily"]
    recorded = daily.query("select distinct as_of_date from marts.segment_size_history order by 1")
    assert [value.date() for value in recorded["as_of_date"]] == week["days"]
    opened = daily.query(
        "select distinct valid_from from marts.segment_membership_history order by 1"
    )
    assert [value.date() for value in opened["valid_from"]] == week["days"]


def test_a_week_of_daily_runs_equals_a_rebuild_of_the_week(week: dict) -> None:
    """Every table and view, base models to marts and histories, has the same rows."""
    daily: Warehouse = week["daily"]
    rebuilt: Warehouse = week["rebuilt"]
    built = relations(rebuilt.database)
    assert relations(daily.database) == built
    assert set(HISTORIES) <= set(built)
    assert differing_relations(rebuilt.database, daily.database) == []
