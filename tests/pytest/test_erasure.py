"""Erasure reaches every copy, end to end through the real job (``refresh``).

On small demo data the job is backfilled for two month ends; then a run with a request
for an unknown customer changes nothing but the log; then an ``erasure_requests`` file
asks to erase two people with several source records each, one by a secondary shop
customer id and one by an email written in another case. After that run, no erased
identifier (customer ids, source ids, emails, phones, loyalty cards, anonymous ids, the
plain SHA-256 of the normalised email and E.164 phone) is left in any table and column
of the warehouse outside staging, intermediate and raw (which mirror the raw files, see
docs/privacy.md), in ops.job_runs, or in any file under the published directory (DuckDB,
Parquet, CSV, JSON lines, logs). The totals stay: fct_orders keeps its order count and net
amount, segment_size_history keeps the earlier date's rows, segment_membership_history
keeps every row of the erased people under numbered anonymous placeholders (closed on the
erasing run), and segment_transitions still adds up to the recorded sizes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from segment_warehouse.pipeline import erasure

PROJECT_DIR = Path(__file__).resolve().parents[2]
REFRESH = ["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"]
MIRROR_SCHEMAS = {"staging", "intermediate", "raw"}
PLACEHOLDER = "(erased)"

pytestmark = pytest.mark.xdist_group("erasure")


class ErasureWorld:
    """A warehouse and published directory the job refreshes, with its own raw files."""

    def __init__(self, root: Path, raw_dir: Path) -> None:
        self.root = root
        self.raw_dir = raw_dir
        self.database = root / "warehouse.duckdb"
        self.published_dir = root / "published"
        self.published = self.published_dir / "segment_warehouse.duckdb"

    def refresh(self, *args: str) -> None:
        command = [
            sys.executable,
            *REFRESH,
            "--target",
            "test",
            "--database",
            str(self.database),
            "--published",
            str(self.published),
            "--target-path",
            str(self.root / "target"),
            *args,
        ]
        env = {**os.environ, "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(self.raw_dir)}
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    def query(self, sql: str, path: Path | None = None) -> pd.DataFrame:
        with duckdb.connect(str(path or self.database), read_only=True) as connection:
            return connection.sql(sql).df()

    def write_requests(self, rows: list[dict[str, str]]) -> None:
        pd.DataFrame(rows, columns=["request_id", "customer_id", "email", "requested_at"]).to_csv(
            self.raw_dir / "erasure_requests.csv", index=False
        )


def _order_totals(world: ErasureWorld) -> tuple[int, float]:
    totals = world.query("select count(*) as n, sum(net_amount) as net from marts.fct_orders")
    return int(totals.n[0]), round(float(totals.net[0]), 2)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _people_to_erase(world: ErasureWorld) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two people with a shop account, a card or a visitor and a second shop account."""
    people = world.query(
        """
        select customer_id
        from intermediate.int_identity_records_linked
        where is_customer
        group by customer_id
        having count(distinct source) >= 2 and sum(case when source = 'shop' then 1 else 0 end) >= 2
        order by count(*) desc, customer_id
        limit 2
        """
    ).customer_id.tolist()
    assert len(people) == 2, "the demo data has people with several source records"
    records = world.query(
        "select record_key, source, source_customer_id, customer_id"
        " from intermediate.int_identity_records_linked"
        f" where customer_id in ('{people[0]}', '{people[1]}')"
    )
    return pd.DataFrame({"customer_id": people}), records


def _identifiers(world: ErasureWorld, records: pd.DataFrame) -> set[str]:
    """Every value that identifies the people of ``records``, in the forms outputs use."""
    keys = "', '".join(records.record_key)
    identifiers = world.query(
        "select identifier_type, identifier_value from intermediate.int_identity_identifiers"
        f" where record_key in ('{keys}')"
    )
    shop_ids = "', '".join(records[records.source == "shop"].source_customer_id)
    accounts = world.query(
        "select email, phone, phone_e164 from staging.stg_shop__customers"
        f" where customer_id in ('{shop_ids}')"
    )
    values = set(records.customer_id) | set(records.source_customer_id)
    values |= set(identifiers.identifier_value)
    for column in ("email", "phone", "phone_e164"):
        values |= set(accounts[column].dropna())
    hashed = identifiers[identifiers.identifier_type.isin(["email", "phone"])].identifier_value
    values |= {_sha256(value) for value in hashed}
    # the plain SHA-256 an ad platform would receive: normalised email, E.164 phone
    values |= {_sha256(value.strip().lower()) for value in accounts.email.dropna()}
    values |= {_sha256(value) for value in accounts.phone_e164.dropna()}
    return {value.lower() for value in values if value}


def _find_in_relation(
    connection: duckdb.DuckDBPyConnection, relation: str, values: set[str]
) -> list[str]:
    columns = connection.sql(f"describe select * from {relation}").df().column_name.tolist()
    found = []
    for column in columns:
        text = f"lower(cast({duckdb_quote(column)} as varchar))"
        condition = " or ".join(f"contains({text}, '{value}')" for value in values)
        hits = connection.execute(f"select count(*) from {relation} where {condition}").fetchall()
        if hits[0][0]:
            found.append(f"{relation}.{column}: {hits[0][0]} row(s)")
    return found


def duckdb_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _find_in_duckdb_file(path: Path, values: set[str], skip: set[str]) -> list[str]:
    found = []
    with duckdb.connect(str(path), read_only=True) as connection:
        tables = connection.sql(
            "select table_schema, table_name from information_schema.tables"
            " where table_catalog = current_database()"
        ).fetchall()
        for schema, table in tables:
            if schema in skip:
                continue
            relation = f"{duckdb_quote(schema)}.{duckdb_quote(table)}"
            found += [
                f"{path.name}: {hit}" for hit in _find_in_relation(connection, relation, values)
            ]
    return found


def _find_in_published(directory: Path, values: set[str]) -> list[str]:
    """Search every file under ``directory``, following the Parquet links."""
    found = []
    for root, _dirs, files in os.walk(directory, followlinks=True):
        for name in files:
            path = Path(root) / name
            if name.endswith(".duckdb"):
                found += _find_in_duckdb_file(path, values, skip=set())
            elif name.endswith(".parquet"):
                with duckdb.connect() as connection:
                    relation = f"read_parquet('{path}')"
                    found += [
                        f"{path}: {hit}" for hit in _find_in_relation(connection, relation, values)
                    ]
            else:  # CSV, JSON lines, logs, and a DuckDB write-ahead log as bytes
                text = path.read_bytes().decode("utf-8", errors="replace").lower()
                found += [f"{path}: {value}" for value in values if value in text]
    return found


@pytest.fixture(scope="module")
def erasure_world(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("erasure")
    raw_dir = root / "raw"
    shutil.copytree(demo_dataset / "raw", raw_dir)
    world = ErasureWorld(root, raw_dir)
    world.refresh("--backfill", "2026-05-31", "2026-06-30", "--step", "month")
    state: dict = {"world": world}
    state["totals_before"] = _order_totals(world)
    state["sizes_before"] = world.query(
        "select * from marts.segment_size_history where as_of_date = '2026-05-31' order by all"
    )
    state["customers_before"] = world.query(
        "select * from marts.dim_customers order by customer_id"
    )
    state["map_before"] = world.query("select * from marts.identity_map order by all")
    state["history_before"] = world.query(
        "select * from marts.segment_membership_history order by all"
    )
    people, records = _people_to_erase(world)
    state["people"], state["records"] = people, records
    state["identifiers"] = _identifiers(world, records)

    # a request for nobody in the data
    world.write_requests(
        [
            {
                "request_id": "R-0",
                "customer_id": "NOBODY-0001",
                "email": "",
                "requested_at": "2026-06-01",
            }
        ]
    )
    world.refresh("--as-of-date", "2026-06-30")
    state["log_unknown"] = world.query("select * from marts.erasure_log")
    state["customers_unknown"] = world.query(
        "select * from marts.dim_customers order by customer_id"
    )
    state["map_unknown"] = world.query("select * from marts.identity_map order by all")
    state["totals_unknown"] = _order_totals(world)
    state["history_unknown"] = world.query(
        "select * from marts.segment_membership_history order by all"
    )
    state["previous_before"] = os.readlink(world.published_dir / ".parquet.previous")

    # one person by a secondary shop account, the other by an email in upper case
    first = records[records.customer_id == people.customer_id[0]]
    secondary = sorted(
        first[
            (first.source == "shop") & (first.source_customer_id != people.customer_id[0])
        ].source_customer_id
    )[0]
    second_shop = records[
        (records.customer_id == people.customer_id[1]) & (records.source == "shop")
    ].source_customer_id
    shop_ids = "', '".join(second_shop)
    emails = world.query(
        "select email from staging.stg_shop__customers where email is not null"
        f" and customer_id in ('{shop_ids}') order by customer_id limit 1"
    ).email
    state["email"] = emails[0]
    world.write_requests(
        [
            {
                "request_id": "R-0",
                "customer_id": "NOBODY-0001",
                "email": "",
                "requested_at": "2026-06-01",
            },
            {
                "request_id": "R-1",
                "customer_id": secondary,
                "email": "",
                "requested_at": "2026-06-02",
            },
            {
                "request_id": "R-2",
                "customer_id": "",
                "email": f"  {emails[0].upper()} ",
                "requested_at": "2026-06-03",
            },
            {"request_id": "R-3", "customer_id": "", "email": "", "requested_at": "2026-06-04"},
        ]
    )
    world.refresh("--as-of-date", "2026-06-30")
    return state


def test_a_request_for_an_unknown_customer_is_logged_unmatched_and_changes_nothing(
    erasure_world: dict,
) -> None:
    log = erasure_world["log_unknown"]
    assert len(log) == 1
    assert not log.is_matched[0] and log.erased_record_count[0] == 0
    assert log.erasure_hash[0] == _sha256("erasure:customer_id:NOBODY-0001")
    pd.testing.assert_frame_equal(
        erasure_world["customers_unknown"].drop(columns=["as_of_date"]),
        erasure_world["customers_before"].drop(columns=["as_of_date"]),
    )
    pd.testing.assert_frame_equal(erasure_world["map_unknown"], erasure_world["map_before"])
    pd.testing.assert_frame_equal(erasure_world["history_unknown"], erasure_world["history_before"])
    assert erasure_world["totals_unknown"] == erasure_world["totals_before"]


def test_no_erased_identifier_is_left_in_any_output(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    values = erasure_world["identifiers"]
    assert len(values) >= 10
    found = _find_in_duckdb_file(world.database, values, skip=MIRROR_SCHEMAS)
    found += _find_in_published(world.published_dir, values)
    assert found == []


def test_the_search_finds_identifiers_that_are_there(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    kept = world.query(
        "select customer_id, email from marts.dim_customers where email is not null limit 1"
    )
    planted = {kept.customer_id[0].lower(), kept.email[0].lower()}
    assert _find_in_duckdb_file(world.database, planted, skip=MIRROR_SCHEMAS)
    assert _find_in_published(world.published_dir, planted)


def test_the_whole_person_is_erased_and_the_log_keeps_only_hashes(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    records = erasure_world["records"]
    log = world.query("select * from marts.erasure_log order by erasure_hash")
    assert len(log) == 3  # the request naming nobody is quarantined, not logged
    by_hash = log.set_index("erasure_hash")
    normalised_email = erasure_world["email"].strip().lower()
    email_row = by_hash.loc[_sha256(f"erasure:email:{normalised_email}")]
    assert email_row.is_matched
    assert _sha256(normalised_email) not in set(log.erasure_hash)
    for person in erasure_world["people"].customer_id:
        assert len(records[records.customer_id == person]) >= 3
    assert sorted(log[log.is_matched].erased_record_count) == sorted(
        records.groupby("customer_id").size()
    )
    resolved = world.query(
        "select record_key, customer_id, is_erased from intermediate.int_identity_records_resolved"
    ).set_index("record_key")
    assert (resolved.loc[records.record_key].customer_id == PLACEHOLDER).all()
    quarantined = world.query(
        "select * from marts.quarantined_rows where table_name = 'erasure_requests'"
    )
    assert quarantined.quarantine_reason.tolist() == ["missing_value"]
    assert quarantined.raw_row.isna().all()


def test_totals_stay_and_the_placeholder_is_no_customer(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    assert _order_totals(world) == erasure_world["totals_before"]
    placeholder_orders = world.query(
        f"select count(*) as n, count(source_customer_id) as with_source from marts.fct_orders"
        f" where customer_id = '{PLACEHOLDER}'"
    )
    assert placeholder_orders.n[0] > 0 and placeholder_orders.with_source[0] == 0
    sizes = world.query(
        "select * from marts.segment_size_history where as_of_date = '2026-05-31' order by all"
    )
    pd.testing.assert_frame_equal(sizes, erasure_world["sizes_before"])
    customers = world.query("select customer_id from marts.dim_customers")
    before = erasure_world["customers_before"]
    assert len(customers) == len(before) - 2
    # no customer-level output holds a placeholder: only the facts (one `(erased)`) and
    # the membership history (closed versions of `(erased) <n>`) do
    relations = world.query(
        "select table_name from information_schema.columns"
        " where table_schema = 'marts' and column_name = 'customer_id' order by all"
    ).table_name.tolist()
    assert {"dim_customers", "customer_segments", "customer_segment_assignments"} <= set(relations)
    for relation in relations:
        hits = world.query(
            f"select distinct customer_id from marts.{relation}"
            f" where customer_id like '{PLACEHOLDER}%'"
        ).customer_id.tolist()
        if relation == "fct_orders":
            assert hits == [PLACEHOLDER]
        elif relation == "segment_membership_history":
            assert hits and all(hit.startswith(f"{PLACEHOLDER} ") for hit in hits)
        else:
            assert hits == [], relation


def _versions(history: pd.DataFrame) -> list[tuple]:
    return sorted(
        history[["segment_family", "segment", "valid_from", "valid_to"]]
        .astype(str)
        .itertuples(index=False, name=None)
    )


def test_the_history_keeps_the_erased_people_under_numbered_placeholders(
    erasure_world: dict,
) -> None:
    world: ErasureWorld = erasure_world["world"]
    before = erasure_world["history_before"]
    erased_ids = set(erasure_world["records"].customer_id)
    history = world.query("select * from marts.segment_membership_history order by all")
    placeholders = history[history.customer_id.str.startswith(f"{PLACEHOLDER} ")]
    assert not placeholders.valid_to.isna().any()  # closed: nobody current
    assert set(placeholders.valid_to.astype(str)) == {"2026-06-30"}
    # one distinct, anonymous number per person: 1 and 2 on the first erasing run
    assert sorted(placeholders.customer_id.unique()) == [f"{PLACEHOLDER} 1", f"{PLACEHOLDER} 2"]
    # every version each person had before 2026-06-30 (the re-run date, replayed) is kept,
    # with its segment and dates, closed on the erasing run
    expected = before[
        before.customer_id.isin(erased_ids) & (before.valid_from.astype(str) < "2026-06-30")
    ].copy()
    expected["valid_to"] = expected.valid_to.fillna(pd.Timestamp("2026-06-30"))
    expected_people = sorted(_versions(rows) for _, rows in expected.groupby("customer_id"))
    kept_people = sorted(_versions(rows) for _, rows in placeholders.groupby("customer_id"))
    assert expected_people and kept_people == expected_people

    # nobody else's earlier versions were re-keyed or lost (later ones may differ: scores
    # relative to the customer base move when two people leave it)
    def earlier(history: pd.DataFrame) -> list[tuple]:
        rows = history[
            ~history.customer_id.str.startswith(PLACEHOLDER)
            & ~history.customer_id.isin(erased_ids)
            & (history.valid_from.astype(str) < "2026-06-30")
        ]
        columns = ["customer_id", "segment_family", "segment", "valid_from"]
        return sorted(rows[columns].astype(str).itertuples(index=False, name=None))

    assert earlier(history) == earlier(before)
    assert not history.customer_id.isin(erased_ids).any()


def test_transitions_still_add_up_to_the_recorded_sizes(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    transitions = world.query("select * from marts.segment_transitions")
    # objectors to profiling count in the sizes as 'Not profiled' but have no membership,
    # so no transitions: segment_transitions leaves that row out (as its dbt check does)
    sizes = world.query(
        "select * from marts.segment_size_history"
        " where customer_count > 0 and segment <> 'Not profiled'"
    )
    assert len(transitions) and set(transitions.from_as_of_date.astype(str)) == {"2026-05-31"}
    sized = (
        sizes.assign(as_of_date=sizes.as_of_date.astype(str))
        .set_index(["segment_family", "as_of_date", "segment"])
        .customer_count
    )
    leaving = (
        transitions[transitions.transition_type != "entry"]
        .groupby(["segment_family", "from_segment"])
        .customer_count.sum()
    )
    arriving = (
        transitions[transitions.transition_type != "exit"]
        .groupby(["segment_family", "to_segment"])
        .customer_count.sum()
    )
    for date, flows in (("2026-05-31", leaving), ("2026-06-30", arriving)):
        recorded = sized.xs(date, level="as_of_date").sort_index()
        assert flows.rename_axis(recorded.index.names).sort_index().to_dict() == (
            recorded.to_dict()
        ), date
    # the erased people left on the erasing run: an exit per family for each
    exits = (
        world.query(
            "select segment_family, count(*) as n from marts.segment_membership_history"
            f" where customer_id like '{PLACEHOLDER} %' and valid_to = '2026-06-30'"
            " group by segment_family"
        )
        .set_index("segment_family")
        .n
    )
    exited = (
        transitions[transitions.transition_type == "exit"]
        .groupby("segment_family")
        .customer_count.sum()
    )
    assert (exited.reindex(exits.index).fillna(0) >= exits).all()


def test_the_previous_parquet_version_does_not_survive_a_new_erasure(erasure_world: dict) -> None:
    world: ErasureWorld = erasure_world["world"]
    assert erasure_world["previous_before"]  # kept on the run that erased nobody
    assert not (world.published_dir / ".parquet.previous").exists()
    versions = [path for path in world.published_dir.iterdir() if path.name.startswith(".parquet.")]
    assert versions == [world.published_dir / os.readlink(world.published_dir / "parquet")]


def test_scrub_job_records_replaces_erased_identifiers_everywhere(tmp_path: Path) -> None:
    """Planted identifiers in ops.job_runs, job_runs.jsonl and a run log are replaced;
    other text, and values too short to scrub safely, stay."""
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as connection:
        connection.execute("create schema intermediate")
        connection.execute("create schema ops")
        connection.execute(
            "create table intermediate.int_erased_identifiers as select * from (values"
            " ('customer_id', 'C00000042'), ('email', 'ann@example.org'), ('shop_id', '7'))"
            " as t(identifier_type, identifier_value)"
        )
        connection.execute(
            "create table ops.job_runs as select * from (values"
            " ('r1', 'failed: C00000042 broke a test', 'fine'),"
            " ('r2', 'ok 7 rows', 'ANN@example.org wrote')) as t(run_id, message, log_file)"
        )
    runs_log = tmp_path / "job_runs.jsonl"
    runs_log.write_text('{"message": "C00000042 and ann@example.org"}\n')
    log_dir = tmp_path / "logs"
    log_dir.mkdir()
    (log_dir / "run.log").write_text("row C00000042 failed\nother line\n")
    (log_dir / "clean.log").write_text("nothing to see\n")

    assert erasure.scrub_job_records(database, runs_log, log_dir) == 4
    with duckdb.connect(str(database), read_only=True) as connection:
        rows = connection.execute("select * from ops.job_runs order by run_id").fetchall()
    assert rows == [
        ("r1", "failed: (erased) broke a test", "fine"),
        ("r2", "ok 7 rows", "(erased) wrote"),
    ]
    assert runs_log.read_text() == '{"message": "(erased) and (erased)"}\n'
    assert (log_dir / "run.log").read_text() == "row (erased) failed\nother line\n"
    assert (log_dir / "clean.log").read_text() == "nothing to see\n"
    assert erasure.scrub_job_records(database, runs_log, log_dir) == 0  # idempotent
