"""Publishing the public marts: copies, metadata, atomic swap under open readers, failures
that leave the published file alone, stale temporary files, storage version, manifest."""

from __future__ import annotations

import datetime
import decimal
import fcntl
import hashlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from segment_warehouse.pipeline.publish import (
    HELD_SIGNALS,
    PAUSE_BEFORE_SWAP_ENV,
    Publication,
    PublishError,
    public_models,
    publish,
    read_publication,
    remove_stale_files,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHILD_TIMEOUT_SECONDS = 60
RELATIONS = {
    "customers": '"main_marts"."customers"',
    "orders": '"main_marts"."orders"',
}
# DuckDB 1.0 to 1.1 read storage version number 64 only; `v1.0.0` files carry it
V1_STORAGE_NUMBER = 64


def make_warehouse(path: Path, customers: list[tuple], orders: list[tuple]) -> Path:
    """A warehouse file like dbt's: marts in schema main_marts, plus a staging table."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists main_marts")
        connection.execute("create schema if not exists main_staging")
        connection.execute("drop table if exists main_marts.customers")
        connection.execute("drop table if exists main_marts.orders")
        connection.execute(
            "create table main_marts.customers ("
            " customer_id integer, customer_name varchar, first_ordered_at timestamp,"
            " signup_date date, total_spend_eur decimal(12, 2), is_active boolean)"
        )
        connection.executemany(
            "insert into main_marts.customers values (?, ?, ?, ?, ?, ?)", customers
        )
        connection.execute(
            "create table main_marts.orders (order_id integer, customer_id integer, amount double)"
        )
        if orders:
            connection.executemany("insert into main_marts.orders values (?, ?, ?)", orders)
        connection.execute(
            "create or replace table main_staging.stg_secret as select 'not published' as note"
        )
    return path


FIRST_CUSTOMERS = [
    (1, "Ada", datetime.datetime(2024, 1, 2, 9, 30), datetime.date(2023, 12, 1), "10.50", True),
    (2, "Bob", None, datetime.date(2024, 2, 1), "0.00", False),
    (3, None, datetime.datetime(2024, 3, 4, 23, 59, 59), None, None, None),
]
FIRST_ORDERS = [(10, 1, 10.5), (11, 1, 0.25), (12, 3, -1.0)]
SECOND_CUSTOMERS = [
    (1, "Ada", datetime.datetime(2024, 1, 2, 9, 30), datetime.date(2023, 12, 1), "99.99", True),
    (4, "Dee", datetime.datetime(2024, 5, 6, 7, 8), datetime.date(2024, 5, 1), "5.00", True),
]
SECOND_ORDERS = [(20, 4, 5.0)]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return make_warehouse(tmp_path / "warehouse.duckdb", FIRST_CUSTOMERS, FIRST_ORDERS)


@pytest.fixture
def published_path(tmp_path: Path) -> Path:
    return tmp_path / "bi" / "marts.duckdb"


def rows(database: Path, relation: str, order_by: str) -> list[tuple]:
    # an in-memory connection that attaches the file: duckdb.connect(path) would reuse an
    # instance of the path that this process may still have open
    with duckdb.connect() as connection:
        connection.execute(f"attach '{database}' as db (read_only)")
        return connection.execute(f"select * from db.{relation} order by {order_by}").fetchall()


def tables_in(database: Path) -> list[str]:
    with duckdb.connect() as connection:
        connection.execute(f"attach '{database}' as db (read_only)")
        return [
            name
            for (name,) in connection.execute(
                "select table_schema || '.' || table_name from information_schema.tables"
                " where table_catalog = 'db' order by all"
            ).fetchall()
        ]


def directory_listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def header_storage_number(path: Path) -> int:
    """The storage version number in the DuckDB file header (after checksum and b'DUCK')."""
    magic, number = struct.unpack("<8x4sQ", path.read_bytes()[:20])
    assert magic == b"DUCK"
    return number


def storage_version_tag(path: Path) -> str:
    with duckdb.connect() as connection:
        connection.execute(f"attach '{path}' as db (read_only)")
        (tags,) = connection.execute(
            "select tags from duckdb_databases() where database_name = 'db'"
        ).fetchone()
    return tags["storage_version"]


# ---- copies and metadata ------------------------------------------------------------------


def test_nothing_is_published_before_the_first_publish(published_path: Path) -> None:
    assert read_publication(published_path) is None


def test_publish_copies_the_relations_and_records_the_run(
    warehouse: Path, published_path: Path
) -> None:
    before = datetime.datetime.now(datetime.UTC)
    publication = publish(
        warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30"
    )
    after = datetime.datetime.now(datetime.UTC)

    assert tables_in(published_path) == [
        "main.customers",
        "main.orders",
        "main.publication",
        "main.published_tables",
    ]
    for table, relation in RELATIONS.items():
        assert rows(published_path, f"main.{table}", "all") == rows(warehouse, relation, "all")
    assert rows(published_path, "main.customers", "customer_id")[0] == (
        1,
        "Ada",
        datetime.datetime(2024, 1, 2, 9, 30),
        datetime.date(2023, 12, 1),
        decimal.Decimal("10.50"),
        True,
    )

    assert publication.path == published_path
    assert publication.run_id == "run-1"
    assert publication.as_of_date == datetime.date(2024, 6, 30)
    assert before <= publication.published_at <= after
    assert publication.published_at.tzinfo == datetime.UTC
    assert publication.row_counts == {"customers": 3, "orders": 3}
    assert list(publication.row_counts) == ["customers", "orders"]

    [(run_id, as_of_date, published_at)] = rows(published_path, "main.publication", "all")
    assert (run_id, as_of_date) == ("run-1", datetime.date(2024, 6, 30))
    assert published_at == publication.published_at.replace(tzinfo=None)
    assert rows(published_path, "main.published_tables", "table_name") == [
        ("customers", 3),
        ("orders", 3),
    ]
    assert read_publication(published_path) == publication
    assert directory_listing(published_path.parent) == ["marts.duckdb", "marts.duckdb.lock"]


def test_publish_counts_rows_of_an_empty_relation_and_accepts_a_date(
    tmp_path: Path, published_path: Path
) -> None:
    warehouse = make_warehouse(tmp_path / "warehouse.duckdb", FIRST_CUSTOMERS, orders=[])
    publication = publish(
        warehouse,
        {"orders": RELATIONS["orders"], "active_customers": '"main_marts"."customers"'},
        published_path,
        run_id="run-empty",
        as_of_date=datetime.date(2024, 7, 1),
    )
    assert publication.row_counts == {"active_customers": 3, "orders": 0}
    assert list(publication.row_counts) == ["active_customers", "orders"]
    assert publication.as_of_date == datetime.date(2024, 7, 1)


def test_views_and_relations_named_with_the_warehouse_database_are_copied(
    warehouse: Path, published_path: Path
) -> None:
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "create view main_marts.big_orders as select * from main_marts.orders where amount > 1"
        )
    publication = publish(
        warehouse,
        {
            "big_orders": '"main_marts"."big_orders"',
            # as dbt's manifest writes relation_name: the database is the file stem
            "orders": '"warehouse"."main_marts"."orders"',
        },
        published_path,
        run_id="run-view",
        as_of_date="2024-06-30",
    )
    assert publication.row_counts == {"big_orders": 1, "orders": 3}
    assert rows(published_path, "main.big_orders", "order_id") == [(10, 1, 10.5)]


def test_publish_releases_the_warehouse_for_the_next_dbt_run(
    warehouse: Path, published_path: Path
) -> None:
    publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    # another process opens the warehouse for writing, as dbt does: refused while any
    # connection, even read-only, still holds it
    writer = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys\n"
            "connection = duckdb.connect(sys.argv[1])\n"
            "connection.execute('insert into main_marts.orders values (99, 1, 1.0)')\n"
            "connection.close()\n",
            str(warehouse),
        ],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
        check=False,
    )
    assert writer.returncode == 0, writer.stderr
    assert len(rows(warehouse, '"main_marts"."orders"', "all")) == 4


# ---- atomic swap under an open reader -----------------------------------------------------

READER_SCRIPT = """
import json, sys
import duckdb

path = sys.argv[1]
connection = duckdb.connect(path, read_only=True)
print(json.dumps(connection.execute("select run_id from publication").fetchall()), flush=True)
sys.stdin.readline()  # the parent has re-published
# customers was not read before the swap, so these rows come from the file, not a cache
seen = {
    "run": connection.execute("select run_id from publication").fetchall(),
    "customers": connection.execute(
        "select customer_id, customer_name from customers order by customer_id"
    ).fetchall(),
    "counts": connection.execute(
        "select table_name, row_count from published_tables order by table_name"
    ).fetchall(),
}
fresh = duckdb.connect()
fresh.execute(f"attach '{path}' as fresh (read_only)")
seen["fresh_run"] = fresh.execute("select run_id from fresh.publication").fetchall()
print(json.dumps(seen), flush=True)
"""


def test_open_reader_in_another_process_keeps_its_version_while_new_readers_get_the_new_one(
    tmp_path: Path, warehouse: Path, published_path: Path
) -> None:
    publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_SCRIPT, str(published_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert json.loads(reader.stdout.readline()) == [["run-1"]]

        # the reader holds the published file open; the publisher is not blocked by it
        make_warehouse(warehouse, SECOND_CUSTOMERS, SECOND_ORDERS)
        second = publish(
            warehouse, RELATIONS, published_path, run_id="run-2", as_of_date="2024-07-31"
        )
        assert second.row_counts == {"customers": 2, "orders": 1}
        assert read_publication(published_path) == second
        assert rows(published_path, "main.customers", "customer_id")[1][:2] == (4, "Dee")

        reader.stdin.write("\n")
        reader.stdin.flush()
        output, errors = reader.communicate(timeout=CHILD_TIMEOUT_SECONDS)
        assert reader.returncode == 0, errors
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    seen = json.loads(output)
    assert seen["run"] == [["run-1"]]
    assert seen["customers"] == [[1, "Ada"], [2, "Bob"], [3, None]]
    assert seen["counts"] == [["customers", 3], ["orders", 3]]
    assert seen["fresh_run"] == [["run-2"]]
    assert directory_listing(published_path.parent) == ["marts.duckdb", "marts.duckdb.lock"]


def test_a_second_publisher_waits_for_the_lock(warehouse: Path, published_path: Path) -> None:
    published_path.parent.mkdir(parents=True)
    lock_path = published_path.with_name("marts.duckdb.lock")
    finished = threading.Event()
    failures: list[BaseException] = []

    def publish_in_background() -> None:
        try:
            publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
        except BaseException as error:
            failures.append(error)
        finally:
            finished.set()

    with lock_path.open("a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        thread = threading.Thread(target=publish_in_background)
        thread.start()
        assert not finished.wait(timeout=1.0), "publish ran while another holder had the lock"
        assert not published_path.exists()
        fcntl.flock(lock_file, fcntl.LOCK_UN)
    assert finished.wait(timeout=CHILD_TIMEOUT_SECONDS)
    thread.join()
    assert failures == []
    assert read_publication(published_path).run_id == "run-1"


# ---- failures leave the published file alone ----------------------------------------------


def test_a_missing_relation_fails_and_leaves_the_previous_publication(
    warehouse: Path, published_path: Path
) -> None:
    first = publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    digest = file_digest(published_path)

    with pytest.raises(PublishError) as raised:
        publish(
            warehouse,
            {**RELATIONS, "segments": '"main_marts"."customer_segments"'},
            published_path,
            run_id="run-2",
            as_of_date="2024-07-31",
        )
    message = str(raised.value)
    assert '"main_marts"."customer_segments"' in message
    assert "does not exist" in message
    assert str(warehouse) in message
    assert "customers:" not in message  # the relations that exist are not blamed

    assert file_digest(published_path) == digest
    assert read_publication(published_path) == first
    assert directory_listing(published_path.parent) == ["marts.duckdb", "marts.duckdb.lock"]


def test_a_missing_warehouse_fails_without_creating_a_publication(
    tmp_path: Path, published_path: Path
) -> None:
    missing = tmp_path / "no_such_warehouse.duckdb"
    with pytest.raises(PublishError, match=re.escape(str(missing))):
        publish(missing, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    assert read_publication(published_path) is None
    assert not missing.exists()


@pytest.mark.parametrize(
    ("relations", "as_of_date", "expected"),
    [
        ({}, "2024-06-30", "nothing to publish"),
        ({"publication": RELATIONS["orders"]}, "2024-06-30", "reserved"),
        ({"Published_Tables": RELATIONS["orders"]}, "2024-06-30", "reserved"),
        (RELATIONS, "30/06/2024", "not an ISO date"),
    ],
)
def test_invalid_arguments_are_refused_before_anything_is_written(
    warehouse: Path, published_path: Path, relations: dict, as_of_date: str, expected: str
) -> None:
    with pytest.raises(PublishError, match=expected):
        publish(warehouse, relations, published_path, run_id="run-1", as_of_date=as_of_date)
    assert not published_path.parent.exists()


def test_an_unknown_storage_version_fails_and_leaves_no_temporary_file(
    warehouse: Path, published_path: Path
) -> None:
    publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    with pytest.raises(PublishError, match=re.escape("v9.9.9")):
        publish(
            warehouse,
            RELATIONS,
            published_path,
            run_id="run-2",
            as_of_date="2024-07-31",
            storage_version="v9.9.9",
        )
    assert read_publication(published_path).run_id == "run-1"
    assert directory_listing(published_path.parent) == ["marts.duckdb", "marts.duckdb.lock"]


# ---- stale temporary files ----------------------------------------------------------------


def plant_stale_files(directory: Path) -> tuple[list[Path], list[Path]]:
    """Temporary files as a killed publish leaves them, and look-alikes that must stay."""
    directory.mkdir(parents=True, exist_ok=True)
    stale = [
        directory / ".marts.duckdb.0123456789abcdef.tmp",
        directory / ".marts.duckdb.0123456789abcdef.tmp.wal",
        directory / ".marts.duckdb.fedcba9876543210.tmp.wal",
    ]
    kept = [
        directory / ".marts.duckdb.notes.tmp",
        directory / ".other.duckdb.0123456789abcdef.tmp",
        directory / "marts.duckdb.0123456789abcdef.tmp",
    ]
    for path in stale + kept:
        path.write_bytes(b"half written")
    return sorted(stale), kept


def test_remove_stale_files_removes_only_temporary_files_of_this_publication(
    published_path: Path,
) -> None:
    stale, kept = plant_stale_files(published_path.parent)
    assert remove_stale_files(published_path) == stale
    assert all(not path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert remove_stale_files(published_path) == []


def test_remove_stale_files_without_a_directory_removes_nothing(tmp_path: Path) -> None:
    assert remove_stale_files(tmp_path / "absent" / "marts.duckdb") == []
    assert not (tmp_path / "absent").exists()


def test_publish_removes_stale_files_first(warehouse: Path, published_path: Path) -> None:
    stale, kept = plant_stale_files(published_path.parent)
    publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    assert all(not path.exists() for path in stale)
    assert all(path.exists() for path in kept)
    assert read_publication(published_path).run_id == "run-1"


KILLED_PUBLISHER_SCRIPT = """
import sys
from pathlib import Path
from segment_warehouse.pipeline.publish import publish

publish(
    Path(sys.argv[1]),
    {"endless": '"main_marts"."endless"'},
    Path(sys.argv[2]),
    run_id="killed",
    as_of_date="2024-07-31",
)
"""


def wait_for_temporary_file(directory: Path, timeout_seconds: float) -> list[str]:
    deadline = time.monotonic() + timeout_seconds
    while time.monotonic() < deadline:
        temporary = [name for name in directory_listing(directory) if name.endswith(".tmp")]
        if temporary:
            return temporary
        time.sleep(0.02)
    return []


def test_a_publish_killed_mid_copy_leaves_files_that_the_next_publish_removes(
    warehouse: Path, published_path: Path
) -> None:
    first = publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    with duckdb.connect(str(warehouse)) as connection:
        # copying ten billion rows takes long enough to kill the publisher in the middle
        connection.execute(
            "create view main_marts.endless as select range as n from range(10000000000)"
        )
    publisher = subprocess.Popen(
        [sys.executable, "-c", KILLED_PUBLISHER_SCRIPT, str(warehouse), str(published_path)],
        cwd=PROJECT_DIR,
        stderr=subprocess.PIPE,
    )
    try:
        temporary = wait_for_temporary_file(published_path.parent, CHILD_TIMEOUT_SECONDS)
        time.sleep(0.2)
        assert publisher.poll() is None, publisher.stderr.read()
    finally:
        publisher.send_signal(signal.SIGKILL)
        publisher.wait()
    assert len(temporary) == 1
    assert (published_path.parent / temporary[0]).exists()
    assert read_publication(published_path) == first

    second = publish(warehouse, RELATIONS, published_path, run_id="run-2", as_of_date="2024-07-31")
    assert read_publication(published_path) == second
    assert directory_listing(published_path.parent) == ["marts.duckdb", "marts.duckdb.lock"]


# ---- storage version ----------------------------------------------------------------------


def test_the_published_file_uses_the_requested_storage_version(
    tmp_path: Path, warehouse: Path, published_path: Path
) -> None:
    publish(warehouse, RELATIONS, published_path, run_id="run-1", as_of_date="2024-06-30")
    assert header_storage_number(published_path) == V1_STORAGE_NUMBER
    assert storage_version_tag(published_path) == "v1.0.0+"

    newer = tmp_path / "newer.duckdb"
    publish(
        warehouse,
        RELATIONS,
        newer,
        run_id="run-1",
        as_of_date="2024-06-30",
        storage_version="v1.2.0",
    )
    assert header_storage_number(newer) > V1_STORAGE_NUMBER
    assert storage_version_tag(newer) == "v1.2.0+"


def test_no_storage_version_writes_the_default_format_of_this_duckdb(
    tmp_path: Path, warehouse: Path, published_path: Path
) -> None:
    default_file = tmp_path / "default.duckdb"
    with duckdb.connect(str(default_file)) as connection:
        connection.execute("create table t as select 1 as x")
    publish(
        warehouse,
        RELATIONS,
        published_path,
        run_id="run-1",
        as_of_date="2024-06-30",
        storage_version=None,
    )
    assert header_storage_number(published_path) == header_storage_number(default_file)
    assert storage_version_tag(published_path) == storage_version_tag(default_file)


# ---- which models are public --------------------------------------------------------------


def manifest_node(name: str, access: str, **extra: object) -> dict:
    node = {
        "resource_type": "model",
        "name": name,
        "access": access,
        "database": "warehouse",
        "schema": "main_marts",
        "alias": name,
        "config": {"materialized": "table"},
    }
    return {**node, **extra}


def test_public_models_returns_only_public_models_and_their_relations(tmp_path: Path) -> None:
    nodes = {
        "model.p.segment_summary": manifest_node("segment_summary", "public"),
        "model.p.dim_customers": manifest_node("dim_customers", "public", alias="customers_v2"),
        "model.p.fct_orders": manifest_node("fct_orders", "public", alias=None, schema="mart s"),
        "model.p.int_orders": manifest_node("int_orders", "protected", schema="main_int"),
        "model.p.stg_orders": manifest_node("stg_orders", "private"),
        "model.p.eph": manifest_node("eph", "public", config={"materialized": "ephemeral"}),
        "seed.p.country_codes": {
            **manifest_node("country_codes", "public"),
            "resource_type": "seed",
        },
        "test.p.not_null": {**manifest_node("not_null", "public"), "resource_type": "test"},
    }
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"metadata": {}, "nodes": nodes}))

    models = public_models(manifest)
    assert models == {
        "dim_customers": '"main_marts"."customers_v2"',
        "fct_orders": '"mart s"."fct_orders"',
        "segment_summary": '"main_marts"."segment_summary"',
    }
    assert list(models) == ["dim_customers", "fct_orders", "segment_summary"]


def test_public_models_feed_publish(tmp_path: Path, warehouse: Path, published_path: Path) -> None:
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.customers": manifest_node("customers", "public"),
        "model.p.orders": manifest_node("orders", "protected"),
    }
    manifest.write_text(json.dumps({"nodes": nodes}))
    publication = publish(
        warehouse, public_models(manifest), published_path, run_id="r", as_of_date="2024-06-30"
    )
    assert publication.row_counts == {"customers": 3}


@pytest.mark.parametrize("content", [None, "{not json", '{"metadata": {}}', "[]"])
def test_a_missing_or_unreadable_manifest_names_its_path(
    tmp_path: Path, content: str | None
) -> None:
    manifest = tmp_path / "target" / "manifest.json"
    if content is not None:
        manifest.parent.mkdir()
        manifest.write_text(content)
    with pytest.raises(PublishError, match=re.escape(str(manifest))):
        public_models(manifest)


# ---- personal data ------------------------------------------------------------------------


def test_pii_columns_are_left_out_of_the_published_copy_unless_asked_for(
    tmp_path: Path, warehouse: Path, published_path: Path
) -> None:
    columns = {
        "customer_id": {"name": "customer_id", "meta": {}},
        "customer_name": {"name": "customer_name", "meta": {"pii": True}},
        "signup_date": {"name": "signup_date", "config": {"meta": {"pii": True}}},
        "is_active": {"name": "is_active", "meta": {"pii": False}},
    }
    manifest = tmp_path / "manifest.json"
    nodes = {
        "model.p.customers": manifest_node("customers", "public", columns=columns),
        "model.p.orders": manifest_node("orders", "public"),
    }
    manifest.write_text(json.dumps({"nodes": nodes}))

    relations = public_models(manifest)
    assert relations == {
        "customers": '(select * exclude ("customer_name", "signup_date") '
        'from "main_marts"."customers")',
        "orders": '"main_marts"."orders"',
    }
    publish(warehouse, relations, published_path, run_id="r", as_of_date="2024-06-30")
    assert rows(published_path, "main.customers", "customer_id") == [
        (customer_id, first_ordered_at, total_spend, is_active)
        for customer_id, _, first_ordered_at, _, total_spend, is_active in rows(
            warehouse, '"main_marts"."customers"', "customer_id"
        )
    ]

    assert public_models(manifest, include_pii=True) == {
        "customers": '"main_marts"."customers"',
        "orders": '"main_marts"."orders"',
    }


# ---- Parquet copies -----------------------------------------------------------------------


def parquet_rows(path: Path, order_by: str) -> list[tuple]:
    with duckdb.connect() as connection:
        return connection.execute(f"select * from '{path}' order by {order_by}").fetchall()


def publish_with_parquet(
    warehouse: Path,
    published_path: Path,
    run_id: str,
    as_of_date: str,
    relations: dict[str, str] | None = None,
) -> None:
    """Publish with Parquet copies behind the link ``parquet`` beside the published file."""
    publish(
        warehouse,
        RELATIONS if relations is None else relations,
        published_path,
        run_id=run_id,
        as_of_date=as_of_date,
        parquet_dir=published_path.parent / "parquet",
    )


def test_parquet_copies_are_swapped_in_with_the_duckdb_file_keeping_one_previous_version(
    tmp_path: Path, warehouse: Path, published_path: Path
) -> None:
    parquet_dir = published_path.parent / "parquet"
    publish_with_parquet(warehouse, published_path, "run-1", "2024-06-30")
    assert parquet_dir.is_symlink()
    first_version = parquet_dir.resolve()
    assert directory_listing(parquet_dir) == [
        "customers.parquet",
        "orders.parquet",
        "publication.parquet",
        "published_tables.parquet",
    ]
    for table in ["customers", "orders", "publication", "published_tables"]:
        assert parquet_rows(parquet_dir / f"{table}.parquet", "all") == rows(
            published_path, f"main.{table}", "all"
        )
    # DuckDB types survive: decimal, date, timestamp
    assert parquet_rows(parquet_dir / "customers.parquet", "customer_id")[0] == (
        1,
        "Ada",
        datetime.datetime(2024, 1, 2, 9, 30),
        datetime.date(2023, 12, 1),
        decimal.Decimal("10.50"),
        True,
    )

    make_warehouse(warehouse, SECOND_CUSTOMERS, SECOND_ORDERS)
    publish_with_parquet(warehouse, published_path, "run-2", "2024-07-31")
    second_version = parquet_dir.resolve()
    assert second_version != first_version
    assert parquet_rows(parquet_dir / "publication.parquet", "all")[0][0] == "run-2"
    assert parquet_rows(parquet_dir / "orders.parquet", "all") == [(20, 4, 5.0)]
    # a reader that resolved the link before the swap still finds the version it resolved
    assert parquet_rows(first_version / "publication.parquet", "all")[0][0] == "run-1"

    publish_with_parquet(warehouse, published_path, "run-3", "2024-08-31")
    assert not first_version.exists()
    assert second_version.is_dir()
    assert sorted(
        path.name for path in published_path.parent.iterdir() if path.name.startswith(".parquet")
    ) == sorted([".parquet.previous", second_version.name, parquet_dir.resolve().name])


def test_a_failed_publish_leaves_the_parquet_copies_alone(
    warehouse: Path, published_path: Path
) -> None:
    parquet_dir = published_path.parent / "parquet"
    publish_with_parquet(warehouse, published_path, "run-1", "2024-06-30")
    listing, version = directory_listing(published_path.parent), parquet_dir.resolve()
    with pytest.raises(PublishError, match="customer_segments"):
        publish_with_parquet(
            warehouse,
            published_path,
            "run-2",
            "2024-07-31",
            {**RELATIONS, "segments": '"main_marts"."customer_segments"'},
        )
    assert directory_listing(published_path.parent) == listing
    assert parquet_dir.resolve() == version
    assert parquet_rows(parquet_dir / "publication.parquet", "all")[0][0] == "run-1"


def test_a_real_directory_at_the_parquet_path_is_refused(
    warehouse: Path, published_path: Path
) -> None:
    parquet_dir = published_path.parent / "parquet"
    parquet_dir.mkdir(parents=True)
    (parquet_dir / "mine.txt").write_text("not ours")
    with pytest.raises(PublishError, match=f"{re.escape(str(parquet_dir))} exists and is not"):
        publish_with_parquet(warehouse, published_path, "r", "2024-06-30")
    assert directory_listing(parquet_dir) == ["mine.txt"]
    assert read_publication(published_path) is None


def test_parquet_versions_left_by_a_killed_publish_are_removed(
    warehouse: Path, published_path: Path
) -> None:
    parquet_dir = published_path.parent / "parquet"
    publish_with_parquet(warehouse, published_path, "run-1", "2024-06-30")
    stale = published_path.parent / ".parquet.0123456789abcdef"
    stale.mkdir()
    (stale / "customers.parquet").write_bytes(b"half")
    stale_link = published_path.parent / ".parquet.fedcba9876543210.link"
    stale_link.symlink_to(stale.name)
    unrelated = published_path.parent / ".parquet.notours"
    unrelated.mkdir()

    assert remove_stale_files(published_path, parquet_dir) == [stale, stale_link]
    assert parquet_rows(parquet_dir / "publication.parquet", "all")[0][0] == "run-1"
    assert unrelated.is_dir()


# ---- signals ------------------------------------------------------------------------------

# the publisher says on stderr when it reaches the pause, and the parent waits for the line;
# it takes SIGINT as Python does by default even when started ignoring it (a process
# inherits an ignored SIGINT, as under some pytest-xdist workers)
PAUSED_PUBLISHER_SCRIPT = """
import signal
import sys
from pathlib import Path
from segment_warehouse.pipeline import publish as publishing
from segment_warehouse.pipeline.publish import publish

pause = publishing._pause_before_swap


def announced_pause():
    print("paused", file=sys.stderr, flush=True)
    pause()


publishing._pause_before_swap = announced_pause
signal.signal(signal.SIGINT, signal.default_int_handler)
published = Path(sys.argv[2])
try:
    publish(
        Path(sys.argv[1]),
        {"customers": '"main_marts"."customers"', "orders": '"main_marts"."orders"'},
        published,
        run_id="interrupted",
        as_of_date="2024-07-31",
        parquet_dir=published.parent / "parquet",
    )
except KeyboardInterrupt:
    sys.exit(130)
"""


def test_an_interrupt_just_before_the_swap_removes_the_new_files_and_keeps_the_old(
    warehouse: Path, published_path: Path
) -> None:
    publish_with_parquet(warehouse, published_path, "run-1", "2024-06-30")
    listing = directory_listing(published_path.parent)
    digest, version = file_digest(published_path), (published_path.parent / "parquet").resolve()
    versions_before = set(published_path.parent.glob(".parquet.*"))
    publisher = subprocess.Popen(
        [sys.executable, "-c", PAUSED_PUBLISHER_SCRIPT, str(warehouse), str(published_path)],
        cwd=PROJECT_DIR,
        env={**os.environ, PAUSE_BEFORE_SWAP_ENV: str(CHILD_TIMEOUT_SECONDS)},
        stderr=subprocess.PIPE,
    )
    try:
        # paused: the new file and every Parquet copy are written, only the swap is left;
        # the line is awaited in a thread, so a publisher that hangs before its pause fails
        # the test after CHILD_TIMEOUT_SECONDS instead of blocking it
        paused = threading.Event()

        def watch_for_pause() -> None:
            for line in iter(publisher.stderr.readline, b""):  # until the publisher ends
                if line == b"paused\n":
                    paused.set()
                    return

        threading.Thread(target=watch_for_pause, daemon=True).start()
        assert paused.wait(CHILD_TIMEOUT_SECONDS)
        assert wait_for_temporary_file(published_path.parent, 1) != []
        assert any(
            (new_version / "published_tables.parquet").exists()
            for new_version in set(published_path.parent.glob(".parquet.*")) - versions_before
        )
        publisher.send_signal(signal.SIGINT)
        assert publisher.wait(timeout=CHILD_TIMEOUT_SECONDS) == 130, publisher.stderr.read()
    finally:
        publisher.kill()
        publisher.wait()
    assert directory_listing(published_path.parent) == listing
    assert file_digest(published_path) == digest
    assert (published_path.parent / "parquet").resolve() == version
    assert read_publication(published_path).run_id == "run-1"


def test_a_signal_during_the_swap_waits_until_both_copies_and_after_swap_are_done(
    warehouse: Path, published_path: Path
) -> None:
    parquet_dir = published_path.parent / "parquet"
    publish_with_parquet(warehouse, published_path, "run-1", "2024-06-30")
    seen: list[tuple[str, ...]] = []

    def handler(_signum: int, _frame: object) -> None:
        parquet_run = parquet_rows(parquet_dir / "publication.parquet", "all")[0][0]
        seen.append(("signal", read_publication(published_path).run_id, parquet_run))

    def after_swap(publication: Publication) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.2)  # a signal that was not held would be handled in here
        seen.append(("after_swap", publication.run_id))

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        publish(
            warehouse,
            RELATIONS,
            published_path,
            run_id="run-2",
            as_of_date="2024-07-31",
            parquet_dir=parquet_dir,
            after_swap=after_swap,
        )
        time.sleep(0.1)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert seen == [("after_swap", "run-2"), ("signal", "run-2", "run-2")]
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) & set(HELD_SIGNALS) == set()


def make_audience_warehouse(path: Path, audience_names: list[str]) -> Path:
    """A warehouse with the two audience marts: a registry and its members."""
    with duckdb.connect(str(path)) as connection:
        connection.execute("create schema if not exists main_marts")
        connection.execute(
            "create table main_marts.audience_registry (audience varchar, channel varchar)"
        )
        connection.executemany(
            "insert into main_marts.audience_registry values (?, ?)",
            [(name, "paid_ads" if name.endswith("ads") else "email") for name in audience_names],
        )
        connection.execute(
            "create table main_marts.audience_members (audience varchar, customer_id varchar,"
            " email_sha256 varchar, phone_sha256 varchar)"
        )
        connection.executemany(
            "insert into main_marts.audience_members values (?, ?, ?, ?)",
            [
                ("win_back_ads", "C2", "b" * 64, None),
                ("win_back_ads", "C1", "a" * 64, "c" * 64),
                ("newsletter", "C3", None, None),
            ],
        )
    return path


def test_audiences_are_exported_per_audience_and_swapped_in_with_the_publication(
    tmp_path: Path, published_path: Path
) -> None:
    source = make_audience_warehouse(
        tmp_path / "audiences.duckdb", ["newsletter", "win_back_ads", "nobody_yet"]
    )
    relations = {
        "audience_registry": '"main_marts"."audience_registry"',
        "audience_members": '"main_marts"."audience_members"',
    }
    audience_dir = published_path.parent / "audiences"
    publish(source, relations, published_path, run_id="r1", as_of_date="2026-06-30",
            audience_dir=audience_dir)  # fmt: skip
    assert audience_dir.is_symlink()
    assert directory_listing(audience_dir) == [
        f"{name}.{suffix}"
        for name in ("newsletter", "nobody_yet", "win_back_ads")
        for suffix in ("csv", "parquet")
    ]
    ads = (audience_dir / "win_back_ads.csv").read_text().splitlines()
    header = "customer_id,email_sha256,phone_sha256"
    assert ads == [header, f"C1,{'a' * 64},{'c' * 64}", f"C2,{'b' * 64},"]
    assert (audience_dir / "newsletter.csv").read_text().splitlines() == ["customer_id", "C3"]
    # an audience without members gets a file with its header only, never a stale one
    assert (audience_dir / "nobody_yet.csv").read_text().splitlines() == ["customer_id"]
    with duckdb.connect() as connection:
        parquet = connection.execute(
            f"select customer_id from read_parquet('{audience_dir / 'win_back_ads.parquet'}')"
        ).fetchall()
    assert parquet == [("C1",), ("C2",)]
    first_version = os.readlink(audience_dir)
    publish(source, relations, published_path, run_id="r2", as_of_date="2026-06-30",
            audience_dir=audience_dir)  # fmt: skip
    assert os.readlink(audience_dir) != first_version


def test_an_audience_name_that_is_not_a_file_name_fails_the_publish(
    tmp_path: Path, published_path: Path
) -> None:
    source = make_audience_warehouse(tmp_path / "audiences.duckdb", ["../escape"])
    relations = {
        "audience_registry": '"main_marts"."audience_registry"',
        "audience_members": '"main_marts"."audience_members"',
    }
    with pytest.raises(PublishError, match="not lower_snake_case"):
        publish(source, relations, published_path, run_id="r1", as_of_date="2026-06-30",
                audience_dir=published_path.parent / "audiences")  # fmt: skip
    assert not published_path.exists()
    assert not (published_path.parent / "audiences").exists()
