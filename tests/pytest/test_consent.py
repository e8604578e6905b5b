"""Consent that fails closed, checked end to end on the demo data against planted truth.

The generator writes ground_truth/consents.parquet: per customer account, channel and
purpose, the decision in force at the end date, computed in Python from the values drawn
before defects were planted and from which rows were broken (docs/privacy.md, "How consent
is decided"). The warehouse must reach the same decisions from the raw rows alone, and
people who objected to profiling must be in no customer-level segment output.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import pytest
from conftest import Warehouse

pytestmark = pytest.mark.dbt

#: The customer-level segment outputs an objector to profiling must not appear in.
SEGMENT_OUTPUTS = (
    "customer_segments",
    "customer_segment_assignments",
    "customer_rfm",
    "customer_lifecycle",
    "customer_micro_segments",
    "customer_clusters",
    "customer_value_predictions",
)


def _single_account_people(warehouse: Warehouse) -> pd.DataFrame:
    """Person and account of every person resolved from exactly one shop account."""
    return warehouse.query(
        """
        select customer_id, min(source_customer_id) as account_id
        from intermediate.int_identity_records_resolved
        where source = 'shop'
        group by customer_id
        having count(*) = 1
        """
    )


def _expected_objections(truth: pd.DataFrame) -> pd.Series:
    """Per account: its latest profiling decision on any channel is not a grant."""
    profiling = truth[truth["purpose"] == "profiling"].copy()
    profiling["is_undated"] = profiling["decided_at"].isna()
    profiling["is_revoked"] = ~profiling["is_granted"]
    latest = profiling.sort_values(
        ["customer_id", "is_undated", "decided_at", "is_revoked"],
        ascending=[True, False, False, False],
        na_position="first",
    ).drop_duplicates("customer_id")
    return latest.set_index("customer_id")["is_revoked"]


def test_consent_decisions_match_planted_truth(
    demo_warehouse: Warehouse, read_truth: Callable[[str], pd.DataFrame]
) -> None:
    as_of = demo_warehouse.query("select as_of_date from intermediate.int_as_of_date_resolved")
    assert str(as_of["as_of_date"].iloc[0])[:10] == "2026-06-30", "truth is as of the end date"
    truth = read_truth("consents")
    people = _single_account_people(demo_warehouse)
    expected = truth.merge(people, left_on="customer_id", right_on="account_id").drop(
        columns=["customer_id_x", "account_id"]
    )
    expected = expected.rename(columns={"customer_id_y": "customer_id"})
    # A paid_ads grant needs a contact key: an account with neither an email nor a phone
    # has none, so its grant is not for the contact point the person is published with.
    keyless = demo_warehouse.query(
        "select customer_id as account_id from staging.stg_shop__customers "
        "where email is null and phone_e164 is null"
    ).merge(people)["customer_id"]
    keyless_grant = (
        expected["customer_id"].isin(keyless)
        & (expected["channel"] == "paid_ads")
        & expected["is_granted"]
    )
    expected.loc[keyless_grant, ["is_granted", "decision"]] = [False, "revoked"]
    decisions = demo_warehouse.query(
        "select * from intermediate.int_customer_consent_decisions"
    ).merge(people[["customer_id"]])
    key = ["customer_id", "channel", "purpose"]
    compared = expected.merge(decisions, on=key, how="outer", indicator=True)
    missing = compared[compared["_merge"] != "both"]
    assert missing.empty, missing[[*key, "_merge", "decision_x", "decision_y"]].head(20)
    for column in ("is_granted", "decision"):
        wrong = compared[compared[f"{column}_x"] != compared[f"{column}_y"]]
        assert wrong.empty, wrong[[*key, "decision_x", "decision_y"]]
    expected_at = pd.to_datetime(compared["decided_at_x"], utc=True)
    actual_at = pd.to_datetime(compared["decided_at_y"]).dt.tz_localize("UTC")
    same_time = (expected_at == actual_at) | (expected_at.isna() & actual_at.isna())
    assert same_time.all(), compared.loc[~same_time, [*key, "decided_at_x", "decided_at_y"]]

    # The comparison covers every rule: grants, revocations, unreadable rows (dated and
    # undated), the new paid_ads channel and every purpose.
    counts = compared["decision_x"].value_counts()
    assert counts.get("granted", 0) > 100 and counts.get("revoked", 0) > 100
    unreadable = compared[compared["decision_x"] == "unreadable"]
    assert len(unreadable) >= 10
    assert unreadable["decided_at_x"].isna().any() and unreadable["decided_at_x"].notna().any()
    assert (compared.loc[compared["is_granted_x"], "channel"] == "paid_ads").sum() > 10
    assert set(compared["purpose"]) == {"marketing", "profiling", "personalisation"}


def test_unreadable_rows_of_known_accounts_revoke(demo_warehouse: Warehouse) -> None:
    """Every quarantined row of a known account is a revocation; orphans count nowhere."""
    counts = demo_warehouse.query(
        """
        select
            count(*) filter (where quarantine_reason is not null and is_known) as known,
            count(*) filter (where quarantine_reason is not null and not is_known) as orphans,
            count(*) filter (where quarantine_reason is null) as valid
        from (
            select
                consents.quarantine_reason,
                exists (
                    select 1 from intermediate.int_identity_records_resolved as resolved
                    where resolved.source = 'shop'
                        and resolved.source_customer_id = consents.customer_id
                ) as is_known
            from staging.base_crm__consents as consents
        )
        """
    ).iloc[0]
    events = demo_warehouse.query(
        """
        select
            count(distinct raw_row_number) filter (where not is_readable) as unreadable,
            count(distinct raw_row_number) filter (where is_readable) as valid,
            count(*) filter (where not is_readable and is_granted) as unreadable_grants
        from intermediate.int_consent_events_interpreted
        """
    ).iloc[0]
    assert counts["known"] > 0 and counts["orphans"] > 0
    assert events["unreadable"] == counts["known"]
    assert events["valid"] == counts["valid"]
    assert events["unreadable_grants"] == 0


def test_objectors_leave_every_customer_level_segment_output(
    demo_warehouse: Warehouse, read_truth: Callable[[str], pd.DataFrame]
) -> None:
    customers = demo_warehouse.query(
        "select customer_id, has_objected_to_profiling from marts.dim_customers"
    )
    objectors = set(customers.loc[customers["has_objected_to_profiling"], "customer_id"])
    assert 0 < len(objectors) < len(customers)

    # the objection matches the planted truth for people resolved from one account
    people = _single_account_people(demo_warehouse).set_index("account_id")["customer_id"]
    expected = _expected_objections(read_truth("consents"))
    expected = expected[expected.index.isin(people.index)]
    expected.index = people[expected.index].to_numpy()
    actual = customers.set_index("customer_id")["has_objected_to_profiling"]
    single = actual[actual.index.isin(people.to_numpy())]
    assert (single[expected.index] == expected).all()
    assert not single.drop(expected.index).any(), "no profiling event means no objection"

    for name in SEGMENT_OUTPUTS:
        members = set(demo_warehouse.query(f"select customer_id from marts.{name}")["customer_id"])
        assert members, name
        assert not members & objectors, name
    open_versions = demo_warehouse.query(
        "select customer_id from marts.segment_membership_history where valid_to is null"
    )
    assert not set(open_versions["customer_id"]) & objectors
    # they stay in the facts
    orders = demo_warehouse.query("select distinct customer_id from marts.fct_orders")
    assert set(orders["customer_id"]) & objectors


def test_segment_summary_counts_objectors_as_not_profiled(demo_warehouse: Warehouse) -> None:
    customers = demo_warehouse.query(
        "select count(*) as n, count(*) filter (where has_objected_to_profiling) as objectors, "
        "sum(cast(net_spend as double)) filter (where has_objected_to_profiling) as revenue "
        "from marts.dim_customers"
    ).iloc[0]
    summary = demo_warehouse.query("select * from marts.segment_summary")
    per_family = summary.groupby("segment_family")["customer_count"].sum()
    assert (per_family == customers["n"]).all(), per_family
    not_profiled = summary[summary["segment"] == "Not profiled"].set_index("segment_family")
    assert set(not_profiled.index) == set(per_family.index)
    assert (not_profiled["customer_count"] == customers["objectors"]).all()
    assert not_profiled["revenue"].astype(float).to_numpy() == pytest.approx(
        customers["revenue"], abs=0.01
    )
    assert not_profiled["rule_priority"].isna().all()
