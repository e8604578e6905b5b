"""Raw rows of the incremental tables in the order they reach the warehouse.

The incremental tables are orders, order lines and web sessions. An append-only export
writes their rows in arrival order: a row arrives at its date (``dated_at``; orders:
``updated_at``, else ``ordered_at``; lines: their order's; sessions: ``started_at``),
except about one key in 25, which arrives ``LATE_ARRIVAL_DAYS`` later. Rows without a
readable date come first. Files in this order can be fed to the warehouse in batches that
are prefixes of them, which is what ``tests/pytest/test_incremental.py`` and
``scripts/benchmark_incremental.py`` do.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

INCREMENTAL_TABLES = ("orders", "order_lines", "web_sessions")
LATE_ARRIVAL_DAYS = 60

_DATED_SQL = {
    "orders": """
        select *, try_cast(
            coalesce(nullif(trim(updated_at), ''), nullif(trim(ordered_at), '')) as timestamptz
        ) as dated_at, order_id as arrival_key
        from (select *, row_number() over () as position from read_parquet('{raw}/orders.parquet'))
    """,
    "order_lines": """
        select order_lines.*, orders.dated_at, order_line_id as arrival_key
        from (
            select *, row_number() over () as position
            from read_parquet('{raw}/order_lines.parquet')
        ) as order_lines
        left join (
            select order_id, min(dated_at) as dated_at from ({orders}) group by order_id
        ) as orders on order_lines.order_id = orders.order_id
    """,
    "web_sessions": """
        select *, try_cast(nullif(trim(started_at), '') as timestamptz) as dated_at,
            session_id as arrival_key
        from (
            select *, row_number() over () as position
            from read_parquet('{raw}/web_sessions.parquet')
        )
    """,
}


def arrival_sql(raw_dir: Path, table: str) -> str:
    """Return SQL for the rows of one incremental table's Parquet file, with arrival times.

    The rows of ``raw_dir/<table>.parquet`` come with their position in the file
    (``position``), date (``dated_at``) and arrival (``arrives_at``). Run it with the
    connection's TimeZone set to UTC.
    """
    orders = _DATED_SQL["orders"].format(raw=raw_dir)
    dated = _DATED_SQL[table].format(raw=raw_dir, orders=orders)
    return f"""
        select * exclude (arrival_key),
            coalesce(dated_at, timestamptz '1900-01-01 00:00:00+00')
            + case when md5_number(coalesce(arrival_key, '')) % 25 = 0
                then interval {LATE_ARRIVAL_DAYS} days else interval 0 days end as arrives_at
        from ({dated})
    """


def arrange_in_arrival_order(raw_dir: Path) -> None:
    """Rewrite the incremental tables' Parquet files in ``raw_dir`` in arrival order.

    The sort is stable (repeated rows keep their order) and the rows themselves are
    unchanged, so every table built from them is too.
    """
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table in INCREMENTAL_TABLES:
            path = raw_dir / f"{table}.parquet"
            arranged = raw_dir / f"{table}.arranged.parquet"
            connection.execute(
                f"copy (select * exclude (dated_at, arrives_at, position) "
                f"from ({arrival_sql(raw_dir, table)}) order by arrives_at, position) "
                f"to '{arranged}' (format parquet)"
            )
            arranged.replace(path)
