"""The scheduled job end to end: history, transitions, drift, publishing and failures.

The tests share one warehouse and run in file order, like the job's runs in production:
a backfill of 2026-05-31 and 2026-06-30, then the failure cases (stale sources, a second
refresh, SIGTERM, SIGINT and SIGKILL during the build and the publish) and a re-run. Each
job call is the real command line in its own process, with real dbt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from unittest import mock

import duckdb
import pandas as pd
import pytest
from conftest import reference_lifecycle, table_checksum

from segment_warehouse.paths import PROJECT_DIR
from segment_warehouse.pipeline import job, locks
from segment_warehouse.pipeline import runs as run_records
from segment_warehouse.pipeline.publish import PAUSE_BEFORE_SWAP_ENV

# the scheduled job through the console script's module
REFRESH = ["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"]
PUBLISHED_MARTS = [
    "dim_customers",
    "customer_segments",
    "customer_segment_assignments",
    "segment_summary",
    "segment_membership_history",
    "segment_size_history",
    "segment_transitions",
    "segment_drift",
]


@dataclass
class JobWorld:
    """Paths of one warehouse the job refreshes, and copies of what it published."""

    root: Path
    raw_dir: Path
    snapshots: dict[str, Path] = field(default_factory=dict)
    cluster_drift: pd.DataFrame | None = None

    @property
    def database(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def published(self) -> Path:
        return self.root / "published" / "segment_warehouse.duckdb"

    def command(self, *args: str) -> list[str]:
        return [
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

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(self.raw_dir), **extra}

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), env=self.env(), capture_output=True, text=True, check=False
        )

    def start(self, *args: str, **env: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            env=self.env(**env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def runs(self) -> pd.DataFrame:
        return _query(self.database, "select * from ops.job_runs order by started_at")

    def run_record(self, run_id: str) -> pd.Series:
        runs = self.runs()
        return runs[runs["run_id"] == run_id].iloc[0]

    def snapshot(self, name: str) -> Path:
        """Keep a copy of the published file as it is now."""
        copy = self.root / f"published_{name}.duckdb"
        shutil.copyfile(self.published, copy)
        self.snapshots[name] = copy
        return copy


def _query(path: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(path), read_only=True) as connection:
        return connection.sql(sql).df()


def _publication(path: Path) -> dict[str, object]:
    return _query(path, "select * from publication").iloc[0].to_dict()


def _checksums(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as connection:
        return {table: table_checksum(connection, table) for table in PUBLISHED_MARTS}


def _state_on(published: Path, day: str) -> pd.DataFrame:
    """Every customer's segment per family on ``day``, from the published history."""
    return _query(
        published,
        f"""
        select customer_id, segment_family, segment
        from segment_membership_history
        where valid_from <= date '{day}' and (valid_to is null or valid_to > date '{day}')
        """,
    )


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _alive(pid: int) -> bool:
    """Whether the process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _children(pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, IndexError):
            continue
        if int(fields[1]) == pid:
            children.append(int(stat.parent.name))
    return children


def _wait_for_dbt(job_process: subprocess.Popen[str], timeout: float = 120) -> int:
    """The pid of the dbt process the job started, once it exists."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for child in _children(job_process.pid):
            try:
                command = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except FileNotFoundError:
                continue
            if len(command) > 2 and command[1].endswith(b"dbt") and command[2] == b"build":
                return child
        assert job_process.poll() is None, job_process.communicate()
        time.sleep(0.05)
    raise AssertionError("the job started no dbt process")


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _new_log(world: JobWorld, earlier: set[Path]) -> Path | None:
    new = set((world.published.parent / "logs").glob("*.log")) - earlier
    return new.pop() if new else None


def _published_files(world: JobWorld) -> dict[str, str]:
    """Everything BI can read: the published file and the Parquet directory the link names."""
    parquet = world.published.parent / "parquet"
    files = {"segment_warehouse.duckdb": _sha256(world.published), "parquet": os.readlink(parquet)}
    for path in sorted(parquet.resolve().iterdir()):
        files[f"parquet/{path.name}"] = _sha256(path)
    return files


def _leftovers(world: JobWorld) -> list[str]:
    """Temporary files and Parquet versions beside the published file besides the kept ones."""
    directory = world.published.parent
    kept = {os.readlink(directory / "parquet"), os.readlink(directory / ".parquet.previous")}
    return sorted(
        path.name
        for path in directory.iterdir()
        if path.name.endswith((".tmp", ".wal", ".link"))
        or (path.name.startswith(".parquet.") and path.name not in kept | {".parquet.previous"})
    )


def _in_the_pause_before_the_swap(world: JobWorld, versions_before: set[Path]) -> bool:
    """The publish has written the new file and every Parquet copy; only the swap is left."""
    directory = world.published.parent
    new_versions = set(directory.glob(".parquet.*")) - versions_before
    return any((version / "published_tables.parquet").exists() for version in new_versions) and any(
        path.name.endswith(".tmp") for path in directory.iterdir()
    )


@pytest.fixture(scope="module")
def world(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> JobWorld:
    """A warehouse backfilled for the month ends 2026-05-31 and 2026-06-30."""
    world = JobWorld(root=tmp_path_factory.mktemp("job"), raw_dir=demo_dataset / "raw")
    backfill = world.run("--backfill", "2026-05-31", "2026-06-30", "--step", "month")
    assert backfill.returncode == 0, backfill.stdout + backfill.stderr
    world.snapshot("2026-06-30")
    world.cluster_drift = _query(world.database, "select * from marts.cluster_drift order by all")
    return world


def test_every_run_is_recorded_and_the_latest_is_published(world: JobWorld) -> None:
    runs = _query(world.database, "select * from ops.job_runs order by started_at")
    assert [str(pd.Timestamp(day).date()) for day in runs["as_of_date"]] == [
        "2026-05-31",
        "2026-06-30",
    ]
    assert set(runs["status"]) == {"success"} and runs["published"].all()
    assert (runs["pid"] > 0).all() and set(runs["host"]) == {socket.gethostname()}
    assert runs["ended_at"].notna().all()
    # the published copy shows its own run as success, as the warehouse did once the swap
    # was done (the copy's end time is when it was written)
    published_runs = _query(world.published, "select * from job_runs order by started_at")
    same = [column for column in runs.columns if column != "ended_at"]
    pd.testing.assert_frame_equal(published_runs[same], runs[same])
    assert (published_runs["ended_at"] <= runs["ended_at"]).all()
    # the refresh lock is released and empty; the lock file stays
    assert locks.refresh_lock_path(world.database).read_text() == ""
    logged = [
        json.loads(line)
        for line in (world.published.parent / "job_runs.jsonl").read_text().splitlines()
    ]
    assert [entry["run_id"] for entry in logged] == list(runs["run_id"])
    for entry in logged:
        assert " ERROR=0 SKIP=0 " in Path(entry["log_file"]).read_text()

    publication = _publication(world.published)
    assert publication["run_id"] == runs["run_id"].iloc[-1]
    assert str(pd.Timestamp(publication["as_of_date"]).date()) == "2026-06-30"
    counted = json.loads(runs["row_counts"].iloc[-1])
    published_counts = _query(world.published, "select table_name, row_count from published_tables")
    published_counts = dict(
        zip(published_counts["table_name"], published_counts["row_count"], strict=True)
    )
    for table in PUBLISHED_MARTS:
        actual = _query(world.published, f"select count(*) as n from {table}")["n"].iloc[0]
        assert counted[table] == published_counts[table] == actual, table
    # the published copy carries the run records, its own run included
    assert _query(world.published, "select count(*) as n from job_runs")["n"].iloc[0] == 2

    # personal data stays in the warehouse; the BI copy and its Parquet files leave it out
    published_columns = set(_query(world.published, "from dim_customers limit 0").columns)
    warehouse_columns = set(_query(world.database, "from marts.dim_customers limit 0").columns)
    assert warehouse_columns - published_columns == {
        "loyalty_card_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "postcode",
        "birth_date",
        # exact quasi-identifiers (docs/privacy.md): published generalised elsewhere
        "city",
        "age_years",
        "company_name",
        "company_size",
    }
    parquet_dir = world.published.parent / "parquet"
    assert parquet_dir.is_symlink()
    for table in [*PUBLISHED_MARTS, "publication"]:
        with duckdb.connect() as connection:
            parquet_sum = table_checksum(connection, f"'{parquet_dir / table}.parquet'")
        with duckdb.connect(str(world.published), read_only=True) as connection:
            assert parquet_sum == table_checksum(connection, table), table


def test_a_new_date_keeps_dbts_partial_parse(world: JobWorld) -> None:
    """The date reaches dbt as an environment variable, not a var: the first run parses
    the project, the second date re-reads only the model that reads the date."""
    runs = _query(world.database, "select log_file from ops.job_runs order by started_at")
    first, second = (Path(log).read_text() for log in runs["log_file"])
    assert "Unable to do partial parsing because saved manifest not found" in first
    assert "Unable to do partial parsing" not in second
    command = second.splitlines()[0]
    assert command.startswith("$ ") and "as_of_date" not in command


def test_history_answers_which_segment_a_customer_was_in_on_a_date(world: JobWorld) -> None:
    published = world.published
    for day, snapshot in world.snapshots.items():
        assignments = _query(
            snapshot,
            "select customer_id, segment_family, segment from customer_segment_assignments",
        )
        assert _sorted(_state_on(published, day)).equals(_sorted(assignments)), day
    # between two runs the earlier run's state holds
    assert _sorted(_state_on(published, "2026-06-15")).equals(
        _sorted(_state_on(published, "2026-05-31"))
    )
    assert _state_on(published, "2026-05-30").empty

    # the first run, whose published copy is gone, against an independent lifecycle
    orders = _query(published, "select customer_id, order_date from fct_orders")
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    state = _state_on(published, "2026-05-31")
    lifecycle = state[state["segment_family"] == "lifecycle"].set_index("customer_id")["segment"]
    expected = reference_lifecycle(orders, lifecycle.reset_index(), pd.Timestamp("2026-05-31"))
    compared = lifecycle.to_frame().join(expected)
    assert (compared["segment"] == compared["expected_stage"]).all()
    assert compared["segment"].nunique() >= 5


def _expected_transitions(before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """from -> to counts between two states, with entries and exits, in pandas."""
    merged = before.merge(
        after, on=["customer_id", "segment_family"], how="outer", suffixes=("_from", "_to")
    )
    merged["from_segment"] = merged["segment_from"].fillna("(entered)")
    merged["to_segment"] = merged["segment_to"].fillna("(exited)")
    counts = merged.groupby(["segment_family", "from_segment", "to_segment"]).size()
    return counts.rename("customer_count").reset_index()


def test_transitions_count_every_move_between_month_ends(world: JobWorld) -> None:
    transitions = _query(world.published, "select * from segment_transitions")
    assert set(transitions["period_start"].astype(str)) == {"2026-06-01"}
    for period, before_day, after_day in [("2026-06-01", "2026-05-31", "2026-06-30")]:
        expected = _expected_transitions(
            _state_on(world.published, before_day), _state_on(world.published, after_day)
        )
        actual = transitions[transitions["period_start"].astype(str) == period]
        assert set(actual["from_as_of_date"].astype(str)) == {before_day}
        columns = ["segment_family", "from_segment", "to_segment", "customer_count"]
        assert _sorted(actual[columns].astype({"customer_count": int})).equals(
            _sorted(expected[columns].astype({"customer_count": int}))
        ), period
    moved = transitions[transitions["transition_type"] == "move"]
    assert (moved["segment_family"] == "lifecycle").any()
    entries = transitions[transitions["transition_type"] == "entry"]
    assert entries["transition_rate"].isna().all() and entries["customer_count"].sum() > 0
    stays = transitions[transitions["transition_type"] == "stay"]
    sizes = _query(world.published, "select * from segment_size_history")
    joined = stays.merge(
        sizes,
        left_on=["segment_family", "from_segment", "from_as_of_date"],
        right_on=["segment_family", "segment", "as_of_date"],
        suffixes=("", "_size"),
    )
    assert len(joined) == len(stays)
    assert (
        (joined["transition_rate"] - joined["customer_count"] / joined["customer_count_size"]).abs()
        < 1e-12
    ).all()


def test_size_history_and_drift_follow_the_published_summaries(world: JobWorld) -> None:
    sizes = _query(world.published, "select * from segment_size_history")
    assert sorted(sizes["as_of_date"].astype(str).unique()) == ["2026-05-31", "2026-06-30"]
    columns = ["segment_family", "segment", "customer_count"]
    summary = _query(
        world.snapshots["2026-06-30"],
        "select segment_family, segment, customer_count, customer_share from segment_summary",
    )
    shares = {"2026-06-30": summary.set_index(["segment_family", "segment"])["customer_share"]}
    # the earlier date, whose published copy is gone, against the history's state then;
    # objectors to profiling have no membership and are counted as 'Not profiled', so the
    # customer base is a family's total and the state holds everyone else
    state = _state_on(world.published, "2026-05-31")
    counted = state.groupby(["segment_family", "segment"]).size().rename("customer_count")
    earlier = sizes[sizes["as_of_date"].astype(str) == "2026-05-31"]
    customers = earlier.groupby("segment_family")["customer_count"].sum()
    assert customers.nunique() == 1, customers
    customers = int(customers.iloc[0])
    not_profiled = earlier[earlier["segment"] == "Not profiled"]["customer_count"]
    assert (not_profiled == customers - state["customer_id"].nunique()).all()
    with_objectors = pd.concat(
        [
            counted,
            not_profiled.set_axis(
                pd.MultiIndex.from_frame(earlier.loc[not_profiled.index, columns[:2]])
            ).rename("customer_count"),
        ]
    )
    shares["2026-05-31"] = with_objectors / customers
    for day, expected in [
        ("2026-06-30", summary[columns]),
        ("2026-05-31", with_objectors.reset_index()),
    ]:
        recorded = sizes[(sizes["as_of_date"].astype(str) == day) & (sizes["customer_count"] > 0)]
        assert _sorted(recorded[columns]).equals(_sorted(expected[columns])), day

    drift = _query(world.published, "select * from segment_drift").set_index(
        ["segment_family", "segment"]
    )
    assert set(drift["previous_as_of_date"].astype(str)) == {"2026-05-31"}
    both = shares["2026-06-30"].index.intersection(shares["2026-05-31"].index)
    expected_change = shares["2026-06-30"][both] - shares["2026-05-31"][both]
    assert ((drift.loc[both, "share_change"] - expected_change).abs() < 1e-12).all()
    shifted = drift[drift["drift_status"] == "shifted"]
    assert (shifted["share_change"].abs() > 0.05).all()
    stable = drift[drift["drift_status"] == "stable"]
    assert (stable["share_change"].abs() <= 0.05).all()
    emptied = drift[drift["drift_status"] == "emptied"]
    assert set(emptied.index) == set(shares["2026-05-31"].index) - set(shares["2026-06-30"].index)
    assert len(emptied) > 0 or len(shifted) > 0  # the month moved something

    warned = json.loads(
        _query(
            world.database, "select warned_tests from ops.job_runs order by started_at desc limit 1"
        )["warned_tests"].iloc[0]
    )
    if len(shifted):
        assert "segment_drift_no_segment_shifted_beyond_the_threshold" in warned
    if len(emptied):
        assert "segment_drift_no_segment_emptied" in warned


def test_an_earlier_date_is_refused_without_rewind(world: JobWorld) -> None:
    before = _publication(world.published)
    refused = world.run("--as-of-date", "2026-05-31")
    assert refused.returncode == 2
    assert "before the latest recorded run (2026-06-30)" in refused.stderr
    assert _publication(world.published) == before


def test_a_run_with_nothing_new_is_recorded_unchanged_and_builds_nothing(
    world: JobWorld,
) -> None:
    """Same raw files, project, vars and date as the published run: no dbt, no publish."""
    published = _publication(world.published)
    files = _published_files(world)
    runs_before = world.runs()
    again = world.run("--as-of-date", "2026-06-30")
    assert again.returncode == 0, again.stdout + again.stderr
    record = world.runs().iloc[-1]
    assert len(world.runs()) == len(runs_before) + 1
    assert record["status"] == "unchanged" and not record["published"]
    assert record["inputs_digest"] == runs_before["inputs_digest"].iloc[-1]
    assert f"nothing new since run {published['run_id']}" in record["message"]
    assert f"2026-06-30: unchanged - nothing new since run {published['run_id']}" in again.stdout
    assert not Path(record["log_file"]).exists()  # dbt never started
    assert _publication(world.published) == published and _published_files(world) == files

    # anything that changes what the build reads is a rebuild, never a skip
    settings = job.JobSettings(
        database=world.database,
        published=world.published,
        parquet_dir=world.published.parent / "parquet",
        audience_dir=world.published.parent / "audiences",
        target="test",
        project_dir=PROJECT_DIR,
    )
    as_of = dt.date(2026, 6, 30)
    same = job.RunRecord("x", "2026-06-30", "", inputs_digest=record["inputs_digest"])
    with mock.patch.dict(os.environ, {"SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(world.raw_dir)}):
        assert job._inputs_digest(settings, as_of) == record["inputs_digest"]
        assert job._unchanged_run(settings, same) is not None
        for changed in (
            replace(settings, extra_vars={"rfm.bins": 4}),
            replace(settings, include_pii=True),
            replace(settings, audience_dir=None),
        ):
            assert job._inputs_digest(changed, as_of) != record["inputs_digest"]
        assert job._inputs_digest(settings, dt.date(2026, 7, 1)) != record["inputs_digest"]
        for rebuilding in (replace(settings, force=True), replace(settings, full_refresh=True)):
            assert job._unchanged_run(rebuilding, same) is None
        other = replace(same, inputs_digest="0" * 64)
        assert job._unchanged_run(settings, other) is None


def test_stale_sources_fail_the_run_and_publish_nothing(world: JobWorld) -> None:
    before = _publication(world.published)
    stale = world.run("--as-of-date", "2026-07-31", "--max-source-age-days", "3")
    assert stale.returncode == 1, stale.stdout + stale.stderr
    record = _query(
        world.database, "select * from ops.job_runs order by started_at desc limit 1"
    ).iloc[0]
    assert record["status"] == "failed" and not record["published"]
    failed = [node["node"] for node in json.loads(record["failed_nodes"])]
    assert "int_source_freshness_checked" in failed
    assert "int_source_freshness_checked" in record["message"]
    # the first failed node's own message (from dbt's run_results.json) reaches the record
    # and the console line, naming the stale source, its file and its latest event
    results = json.loads((world.root / "target" / "run_results.json").read_text())["results"]
    first = next(result for result in results if result["status"] in {"error", "fail"})
    own_message = run_records.node_message(first["message"])
    assert own_message and own_message in record["message"]
    assert "shop.orders (" in own_message and "is stale: its latest event, " in own_message
    (console,) = [line for line in stale.stdout.splitlines() if " failed - " in line]
    assert console.startswith("2026-07-31: failed - dbt build exited with 1; ")
    assert own_message in console and record["message"] in console
    assert _publication(world.published) == before
    # the history is downstream of the freshness check, so the stale date left no trace
    latest = _query(world.database, "select max(as_of_date) as d from marts.segment_size_history")[
        "d"
    ].iloc[0]
    assert str(pd.Timestamp(latest).date()) == "2026-06-30"


def test_a_second_refresh_exits_3_at_once_and_sigterm_stops_the_build(world: JobWorld) -> None:
    before = _published_files(world)
    earlier_logs = set((world.published.parent / "logs").glob("*.log"))
    first = world.start("--as-of-date", "2026-06-30", "--force")
    dbt = _wait_for_dbt(first)

    started = time.monotonic()
    second = world.run("--as-of-date", "2026-06-30")
    assert time.monotonic() - started < 20
    assert second.returncode == 3, second.stdout + second.stderr
    assert "Traceback" not in second.stderr and second.stdout == ""
    (line,) = second.stderr.strip().splitlines()
    assert line.startswith("segment-warehouse refresh: another refresh is running: ")
    assert f"pid {first.pid} " in line and str(locks.refresh_lock_path(world.database)) in line

    # stopped once dbt is building, with the warehouse open
    _wait_for(
        lambda: " START " in ((_new_log(world, earlier_logs) or Path("/dev/null")).read_text()),
        "dbt to start building",
    )
    first.send_signal(signal.SIGTERM)
    stdout, stderr = first.communicate(timeout=120)
    assert first.returncode == 143, stdout + stderr
    assert "Traceback" not in stderr
    assert not _alive(dbt)
    with pytest.raises(ProcessLookupError):
        os.killpg(dbt, 0)  # nothing of dbt's process group is left

    record = world.runs().iloc[-1]
    assert record["status"] == "killed" and not record["published"]
    assert record["pid"] == first.pid
    assert "stopped by SIGTERM during the dbt build" in record["message"]
    assert f"2026-06-30: killed - {record['message']}" in stdout
    assert "SIGTERM" in stderr
    assert _published_files(world) == before  # byte for byte
    with duckdb.connect(str(world.database)) as connection:  # dbt let go of the warehouse
        connection.execute("select 1").fetchall()
    logged = json.loads((world.published.parent / "job_runs.jsonl").read_text().splitlines()[-1])
    assert (logged["run_id"], logged["status"]) == (record["run_id"], "killed")


def test_sigint_stops_the_build_and_a_stale_running_record_is_marked_abandoned(
    world: JobWorld,
) -> None:
    # a run whose process died without a trace, as if killed by SIGKILL on another host
    with duckdb.connect(str(world.database)) as connection:
        connection.execute(
            "insert into ops.job_runs (run_id, as_of_date, started_at, status, published,"
            " message, pid, host) values ('stale-run', '2026-06-30', '2026-07-01 02:30:00',"
            " 'running', false, '', 4194303, 'old-batch-host')"
        )
    job_process = world.start("--as-of-date", "2026-06-30", "--force")
    dbt = _wait_for_dbt(job_process)
    job_process.send_signal(signal.SIGINT)
    stdout, stderr = job_process.communicate(timeout=120)
    assert job_process.returncode == 130, stdout + stderr
    assert "Traceback" not in stderr
    assert not _alive(dbt)

    runs = world.runs()
    this_run = runs.iloc[-1]
    assert this_run["status"] == "killed"
    assert "stopped by SIGINT during the dbt build" in this_run["message"]
    stale = world.run_record("stale-run")
    assert stale["status"] == "abandoned" and pd.notna(stale["ended_at"])
    assert stale["message"] == (
        "process 4194303 on old-batch-host stopped while running without recording an "
        f"outcome (killed or crashed); found by run {this_run['run_id']}"
    )
    assert f"2026-06-30: abandoned - {stale['message']}" in stdout
    logged = [
        json.loads(line)
        for line in (world.published.parent / "job_runs.jsonl").read_text().splitlines()
    ]
    assert [(entry["run_id"], entry["status"]) for entry in logged[-2:]] == [
        ("stale-run", "abandoned"),
        (this_run["run_id"], "killed"),
    ]


def test_sigkill_during_the_build_takes_dbt_down_and_frees_the_lock(world: JobWorld) -> None:
    job_process = world.start("--as-of-date", "2026-06-30", "--force")
    dbt = _wait_for_dbt(job_process)
    os.kill(job_process.pid, signal.SIGKILL)  # the job only: dbt is in a session of its own
    job_process.communicate(timeout=60)
    _wait_for(lambda: not _alive(dbt), "dbt to die with the job", timeout=30)
    # nothing could record it: the run says running until the next run finds it
    assert world.runs().iloc[-1]["status"] == "running"
    with locks.RefreshLock(locks.refresh_lock_path(world.database), {}):
        pass


def test_sigterm_during_the_publish_aborts_it_and_keeps_the_last_publication(
    world: JobWorld,
) -> None:
    killed_in_build = world.runs().iloc[-1]
    before = _published_files(world)
    versions_before = set(world.published.parent.glob(".parquet.*"))
    job_process = world.start(
        "--as-of-date", "2026-06-30", "--force", **{PAUSE_BEFORE_SWAP_ENV: "600"}
    )
    _wait_for(lambda: _in_the_pause_before_the_swap(world, versions_before), "the publish")
    record = world.runs().iloc[-1]
    assert record["status"] == "publishing" and not record["published"]
    job_process.send_signal(signal.SIGTERM)
    stdout, stderr = job_process.communicate(timeout=120)
    assert job_process.returncode == 143, stdout + stderr

    record = world.run_record(record["run_id"])
    assert record["status"] == "killed" and not record["published"]
    assert "stopped by SIGTERM during the publish" in record["message"]
    assert _published_files(world) == before
    assert _leftovers(world) == []  # the new file and Parquet copies are gone
    # this run found the one killed during the build
    abandoned = world.run_record(killed_in_build["run_id"])
    assert abandoned["status"] == "abandoned"
    assert f"found by run {record['run_id']}" in abandoned["message"]


READER = textwrap.dedent(
    """
    import json, sys, time
    import duckdb
    path, stop_file, out_file = sys.argv[1:4]
    reads = []
    held = duckdb.connect(path, read_only=True)
    held_run = held.execute("select run_id from publication").fetchall()[0][0]
    while True:
        stopping = __import__("os").path.exists(stop_file)
        # a new connection, as a BI tool makes (connect() to a path this process already
        # holds open would return that same database)
        with duckdb.connect() as fresh:
            fresh.execute(f"attach '{path}' as bi (read_only)")
            run_id = fresh.execute("select run_id from bi.publication").fetchall()[0][0]
            expected = fresh.execute(
                "select row_count from bi.published_tables where table_name = 'customer_segments'"
            ).fetchall()[0][0]
            actual = fresh.execute("select count(*) from bi.customer_segments").fetchall()[0][0]
        still = held.execute("select run_id from publication").fetchall()[0][0]
        held_rows = held.execute("select count(*) from segment_summary").fetchall()[0][0]
        reads.append({"run_id": run_id, "expected": expected, "actual": actual,
                      "held_run": still, "held_rows": held_rows})
        if stopping:
            break
        time.sleep(0.2)
    json.dump({"held_run": held_run, "reads": reads}, open(out_file, "w"))
    """
)


def test_sigkill_during_the_publish_leaves_bi_the_last_good_version_and_the_next_run_recovers(
    world: JobWorld,
) -> None:
    before = _publication(world.published)
    before_files = _published_files(world)
    good = _checksums(world.snapshots["2026-06-30"])
    versions_before = set(world.published.parent.glob(".parquet.*"))
    killed = world.start("--as-of-date", "2026-06-30", "--force", **{PAUSE_BEFORE_SWAP_ENV: "600"})
    _wait_for(lambda: _in_the_pause_before_the_swap(world, versions_before), "the publish")
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=60)
    assert killed.returncode == -signal.SIGKILL
    assert _published_files(world) == before_files
    assert _publication(world.published) == before
    killed_record = world.runs().iloc[-1]
    assert killed_record["status"] == "publishing"  # what it was doing when it died
    assert _leftovers(world) != []  # its temporary files are still there

    # the next run needs no cleanup; BI keeps reading while it runs, in a second process
    stop_file, out_file = world.root / "stop-reader", world.root / "reads.json"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(world.published), str(stop_file), str(out_file)]
    )
    time.sleep(2)
    rerun = world.run("--as-of-date", "2026-06-30", "--force")
    stop_file.touch()
    assert reader.wait(timeout=120) == 0
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr

    reads = json.loads(out_file.read_text())
    assert reads["held_run"] == before["run_id"]
    seen = [read["run_id"] for read in reads["reads"]]
    after = _publication(world.published)
    assert len(seen) > 10 and seen[0] == before["run_id"] and seen[-1] == after["run_id"]
    assert after["run_id"] != before["run_id"] and set(seen) <= {before["run_id"], after["run_id"]}
    assert all(
        read["expected"] == read["actual"] for read in reads["reads"]
    )  # never half a version
    assert {read["held_run"] for read in reads["reads"]} == {
        before["run_id"]
    }  # an open file stays as it was
    assert len({read["held_rows"] for read in reads["reads"]}) == 1

    # the same date and data give the same marts and the same history, and the clusters'
    # drift is still measured against the run before the date, not against itself
    assert _checksums(world.published) == good
    cluster_drift = _query(world.database, "select * from marts.cluster_drift order by all")
    assert len(cluster_drift) > 0
    assert set(pd.to_datetime(cluster_drift["previous_as_of_date"])) == {pd.Timestamp("2026-05-31")}
    pd.testing.assert_frame_equal(cluster_drift, world.cluster_drift)

    # the rerun found the run that died while publishing, removed what it left and told
    # the truth about both
    rerun_record = world.runs().iloc[-1]
    assert rerun_record["status"] == "success" and rerun_record["run_id"] == after["run_id"]
    abandoned = world.run_record(killed_record["run_id"])
    assert abandoned["status"] == "abandoned" and not abandoned["published"]
    assert (
        f"process {killed.pid} on {socket.gethostname()} stopped while publishing"
        in abandoned["message"]
    )
    assert f"found by run {rerun_record['run_id']}" in abandoned["message"]
    assert f"2026-06-30: abandoned - {abandoned['message']}" in rerun.stdout
    assert _leftovers(world) == []
    published_runs = _query(world.published, "select run_id, status from job_runs")
    published_status = dict(zip(published_runs["run_id"], published_runs["status"], strict=True))
    assert published_status[rerun_record["run_id"]] == "success"
    assert published_status[killed_record["run_id"]] == "abandoned"
    assert set(published_status.values()) <= {
        "success",
        "failed",
        "killed",
        "abandoned",
        "unchanged",
    }
