"""Incremental base models: the demo data fed to one warehouse in three batches, each
run processing only what changed, ends up identical, table by table and row by row, to
the warehouse built once from the final files (``demo_warehouse``).

The orders, order lines and web sessions files are in arrival order
(``segment_warehouse.demo.arrival``), so each batch is a prefix of them. On the way, the
batches hold what an incremental run must repair: orders whose customer arrives later,
customers that are fixed and then quarantined again, rows that arrive 60 days late,
rows edited in place within the lookback, and rows that are deleted at the source.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import Warehouse, build_warehouse, differing_relations, relations

from segment_warehouse.demo.arrival import INCREMENTAL_TABLES, arrival_sql

CUTOFFS = ("2026-02-28", "2026-05-15")
# A batch builds the base models and what the core marts need; the final batch builds
# everything (the cluster model and the history remember earlier runs by design, so they
# are first built, in both warehouses, from the final data).
BATCH_SELECT = "+fct_orders +quarantined_rows +raw_row_reconciliation"
# orders waiting for their customer are the point of the batches, so the data-quality
# gates' error share is lifted for them
BATCH_VARS = {"quality.gates": {"quarantine_error_share": 1}}
VANISHED = {
    "orders": "ORD-VANISHED",
    "order_lines": "ORD-VANISHED-1",
    "web_sessions": "SES-VANISHED",
}


def _copy(connection: duckdb.DuckDBPyConnection, query: str, path: Path) -> None:
    connection.execute(f"copy ({query}) to '{path}' (format parquet)")


def _write_batch(source: Path, target: Path, cutoff: str, *, with_repairs: bool) -> None:
    """The raw files as they stood at ``cutoff``: rows of the incremental tables that
    arrived by then; customers signed up by then, except one in 20 that arrives only
    with the final files, and with malformed emails still correct; the other tables in
    full. ``with_repairs`` adds rows the final files delete, and edits in place the rows
    dated within a day of the batch's latest date (the final files correct them)."""
    target.mkdir(parents=True)
    arrived = f"arrives_at <= timestamptz '{cutoff} 23:59:59+00'"
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for path in source.glob("*.parquet"):
            if path.stem not in INCREMENTAL_TABLES and path.stem != "customers":
                _copy(connection, f"select * from read_parquet('{path}')", target / path.name)
        _copy(
            connection,
            f"""
            select * replace (
                case when email is not null and email not like '%_@_%._%'
                    then 'fixed.' || customer_id || '@example.com' else email end as email
            )
            from read_parquet('{source}/customers.parquet')
            where try_cast(signed_up_at as timestamptz) <= timestamptz '{cutoff} 23:59:59+00'
                and md5_number(coalesce(customer_id, '')) % 20 <> 0
            """,
            target / "customers.parquet",
        )
        edits = {
            "orders": ("amount", "'1.00'"),
            "order_lines": ("quantity", "'7'"),
            "web_sessions": ("page_views", "'999'"),
        }
        for table in INCREMENTAL_TABLES:
            rows = f"select * from ({arrival_sql(source, table)}) where {arrived}"
            if with_repairs:
                column, value = edits[table]
                rows = f"""
                    select * replace (
                        case when dated_at >= (select max(dated_at) from ({rows})) - interval 1 day
                            and {column} is not null then {value} else {column} end as {column}
                    )
                    from ({rows})
                """
            rows = f"select * exclude (dated_at, arrives_at) from ({rows})"
            if with_repairs:  # appended after the rows that arrived
                vanished = _vanished_row(connection, source, table, cutoff)
                rows += f" union all select *, 1e9 as position from ({vanished})"
            ordered = f"select * exclude (position) from ({rows}) order by position"
            _copy(connection, ordered, target / f"{table}.parquet")


def _vanished_row(
    connection: duckdb.DuckDBPyConnection, source: Path, table: str, cutoff: str
) -> str:
    """A valid row the final files no longer have, for the first staged customer."""

    def most_frequent(column: str, table: str) -> str:
        return connection.execute(
            f"select {column} from read_parquet('{source}/{table}.parquet') "
            f"group by {column} order by count(*) desc, {column} limit 1"
        ).fetchall()[0][0]

    customer = most_frequent("customer_id", "orders")
    values = {
        "orders": {
            "order_id": VANISHED["orders"],
            "customer_id": customer,
            "ordered_at": f"{cutoff} 12:00:00",
            "amount": "10.00",
            "currency": "EUR",
        },
        "order_lines": {
            "order_line_id": VANISHED["order_lines"],
            "order_id": VANISHED["orders"],
            "product_id": most_frequent("product_id", "order_lines"),
            "quantity": "1",
            "unit_price": "10.00",
        },
        "web_sessions": {
            "session_id": VANISHED["web_sessions"],
            "customer_id": customer,
            "started_at": f"{cutoff} 12:00:00",
            "page_views": "3",
        },
    }[table]
    columns = [
        row[0]
        for row in connection.execute(
            f"describe select * from read_parquet('{source}/{table}.parquet')"
        ).fetchall()
    ]
    literals = [
        f"'{values[column]}' as {column}" if column in values else f"null::varchar as {column}"
        for column in columns
    ]
    return "select " + ", ".join(literals)


@pytest.fixture(scope="module")
def batches(demo_warehouse: Warehouse, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The incremental warehouse after each batch, and the lookback it ran with."""
    work = tmp_path_factory.mktemp("incremental")
    source = demo_warehouse.raw_dir
    states: dict[str, pd.DataFrame] = {}
    for number, cutoff in enumerate(CUTOFFS, 1):
        raw = work / f"batch_{number}"
        _write_batch(source, raw, cutoff, with_repairs=number == len(CUTOFFS))
        build_warehouse(raw, work, select=BATCH_SELECT, data_tests=False, variables=BATCH_VARS)
        states[cutoff] = _base_rows(work / "warehouse.duckdb")
    as_of = demo_warehouse.query("select max(as_of_date) as d from marts.dim_customers")["d"]
    explicit = {"as_of_date": str(pd.Timestamp(as_of.iloc[0]).date())}
    final = build_warehouse(source, work, variables=explicit, data_tests=False)
    return {"states": states, "final": final, "source": source}


def _base_rows(database: Path) -> pd.DataFrame:
    """Key, reason and the edited value of every row of the three incremental models."""
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.sql(
            """
            select 'orders' as table_name, order_id as record_key, customer_id,
                quarantine_reason, cast(amount as double) as value, raw_row_number
            from staging.base_shop__orders
            union all
            select 'order_lines', order_line_id, null, quarantine_reason,
                cast(quantity as double), raw_row_number
            from staging.base_shop__order_lines
            union all
            select 'web_sessions', session_id, customer_id, quarantine_reason,
                cast(page_views as double), raw_row_number
            from staging.base_web__sessions
            """
        ).df()


def test_incremental_batches_build_the_same_warehouse_as_one_full_build(
    batches: dict, demo_warehouse: Warehouse
) -> None:
    """Every table and view, base models to marts, has the same rows (row checksums).
    The final batch also sets as_of_date explicitly, to the date the full build resolved
    by default, so this covers that the explicit date changes nothing."""
    final: Warehouse = batches["final"]
    built = relations(demo_warehouse.database)
    assert relations(final.database) == built
    assert {"staging.base_shop__orders", "marts.dim_customers", "marts.customer_segments"} <= set(
        built
    )
    assert differing_relations(demo_warehouse.database, final.database) == []


def test_batches_hold_what_the_incremental_runs_must_repair(batches: dict) -> None:
    """The equality above is only worth something if the batches differ from the final
    files in the ways an incremental run must handle."""
    first, second = (batches["states"][cutoff] for cutoff in CUTOFFS)
    final = _base_rows(batches["final"].database)
    final_orders = final[final["table_name"] == "orders"].set_index("raw_row_number")

    # orders waiting for their customer, staged once the customer arrived
    orders_then = first[first["table_name"] == "orders"]
    waiting = orders_then[orders_then["quarantine_reason"] == "unknown_customer"]
    assert final_orders.loc[waiting["raw_row_number"], "quarantine_reason"].isna().sum() > 10

    # orders staged while their customer was fixed, quarantined with it again
    staged = second[(second["table_name"] == "orders") & second["quarantine_reason"].isna()]
    staged = staged[staged["record_key"] != VANISHED["orders"]]
    again = final_orders.loc[staged["raw_row_number"], "quarantine_reason"]
    assert (again == "customer_quarantined").sum() > 10

    for table, key in VANISHED.items():
        rows = second[second["table_name"] == table].set_index("record_key")
        assert pd.isna(rows.loc[key, "quarantine_reason"]), table  # staged in batch 2
        assert key not in set(final.loc[final["table_name"] == table, "record_key"]), table

    edited = {"orders": 1.0, "order_lines": 7.0, "web_sessions": 999.0}
    for table, value in edited.items():
        before = second[second["table_name"] == table].set_index("raw_row_number")["value"]
        after = final[final["table_name"] == table].set_index("raw_row_number")["value"]
        changed = before.index[(before == value) & (after.reindex(before.index) != value)]
        assert len(changed) > 5, table

    # rows that arrived LATE_ARRIVAL_DAYS after their date, dated before batch 2's cutoff
    # and so before its lookback: new keys are processed whatever their date
    with duckdb.connect() as connection:
        connection.execute("set TimeZone = 'UTC'")
        for table in INCREMENTAL_TABLES:
            late = connection.execute(
                f"""
                select position from ({arrival_sql(batches["source"], table)})
                where arrives_at > timestamptz '{CUTOFFS[-1]} 23:59:59+00'
                    and dated_at < timestamptz '{CUTOFFS[-1]} 00:00:00+00'
                """
            ).df()["position"]
            rows = final[final["table_name"] == table].set_index("raw_row_number")
            assert rows.loc[late, "quarantine_reason"].isna().sum() > 20, table


def test_insertion_order_is_released_for_one_session_only(tmp_path: Path) -> None:
    """The base models' pre-hook release_insertion_order rests on DuckDB keeping the
    setting per cursor: dbt-duckdb gives each node a cursor of its own, so the other
    models, Python models among them, keep rows in insertion order."""
    with duckdb.connect(str(tmp_path / "sessions.duckdb")) as connection:
        base_model, other_model = connection.cursor(), connection.cursor()
        base_model.execute("set session preserve_insertion_order = false")
        setting = "select current_setting('preserve_insertion_order')"
        assert base_model.execute(setting).fetchone() == (False,)
        assert other_model.execute(setting).fetchone() == (True,)
        assert connection.cursor().execute(setting).fetchone() == (True,)
