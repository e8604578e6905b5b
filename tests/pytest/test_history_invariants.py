"""The histories' data tests fail when their invariants break.

The tests on segment_membership_history and identity_history are written for speed at
scale (one grouping per key, one full outer join against the assignments); these tests
plant each kind of break in a copy of a built warehouse and run those data tests on it:
on the warehouse as built they pass, and on the broken copy every one of them fails.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
from conftest import Warehouse, build_warehouse

HISTORY_TESTS = (
    "assert_current_history_matches_assignments",
    "segment_membership_history_one_open_version",
    "segment_membership_history_one_row_per_version",
    "identity_history_one_open_version",
    "identity_history_one_row_per_version",
)


def _run(work_dir: Path, raw_dir: Path) -> dict[str, str]:
    run = build_warehouse(
        raw_dir, work_dir, command="test", select=" ".join(HISTORY_TESTS), check=False
    ).run
    return {name: run.statuses.get(name, "not run") for name in HISTORY_TESTS}


def test_history_tests_pass_on_a_built_warehouse(demo_warehouse: Warehouse) -> None:
    statuses = {name: demo_warehouse.run.statuses.get(name) for name in HISTORY_TESTS}
    assert statuses == dict.fromkeys(HISTORY_TESTS, "pass")


def test_each_planted_break_fails_its_history_test(
    demo_warehouse: Warehouse, tmp_path: Path
) -> None:
    work_dir = tmp_path / "broken"
    work_dir.mkdir()
    shutil.copy(demo_warehouse.database, work_dir / "warehouse.duckdb")
    with duckdb.connect(str(work_dir / "warehouse.duckdb")) as connection:
        # a second open version of one customer and family, with the same valid_from
        connection.execute(
            """
            insert into marts.segment_membership_history
            select * from marts.segment_membership_history
            where valid_to is null and segment_family = 'lifecycle'
            order by customer_id limit 1
            """
        )
        # an open version whose segment is not the customer's assignment
        connection.execute(
            """
            update marts.segment_membership_history set segment = 'Not a segment'
            where valid_to is null and segment_family = 'rfm' and customer_id = (
                select min(customer_id) from marts.segment_membership_history
                where valid_to is null and segment_family = 'rfm'
            )
            """
        )
        # a record resolved twice on one date
        connection.execute(
            """
            insert into marts.identity_history
            select * from marts.identity_history
            where valid_to is null
            order by source, source_customer_id limit 1
            """
        )
    statuses = _run(work_dir, demo_warehouse.raw_dir)
    assert statuses == dict.fromkeys(HISTORY_TESTS, "fail")
