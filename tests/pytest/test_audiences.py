"""Audiences end to end: planted consent histories in, exported audience files out.

The demo data's consents are replaced by histories planted per customer account, whose
outcome on 2026-06-30 is known by construction (a grant, a revocation, a grant after a
revocation, an unreadable revocation, a grant after the date, a grant for another
purpose, a row with an unknown channel, ...), and a few suppression-list entries are
added. The real job builds, publishes and exports the audiences; the tests then read only
what it wrote: the exported CSV and Parquet files and the published DuckDB file.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segment_warehouse.paths import PROJECT_DIR

REFRESH = ["-m", "segment_warehouse.cli", "--project-dir", str(PROJECT_DIR), "refresh"]
AS_OF_DATE = "2026-06-30"
CHANNELS = ("email", "sms", "push", "paid_ads")

EARLY, LATER, LATEST = "2025-03-01T10:00:00Z", "2026-01-15T10:00:00Z", "2026-05-01T10:00:00Z"
AFTER_THE_DATE = "2026-08-01T10:00:00Z"

# planted history kind -> (events per channel as (purpose, status, recorded_at), outcome)
# outcome: granted, not_granted (a decision other than a grant is in force) or none (no
# marketing decision for the channel on the date)
HISTORIES: dict[int, tuple[list[tuple[str, str, str]], str]] = {
    0: ([], "none"),
    1: ([("marketing", "granted", EARLY)], "granted"),
    2: ([("marketing", "granted", EARLY), ("marketing", "revoked", LATER)], "not_granted"),
    3: ([("marketing", "revoked", EARLY), ("marketing", "granted", LATER)], "granted"),
    # a revocation with a misspelled status: quarantined, still a revocation
    4: ([("marketing", "granted", EARLY), ("marketing", "revokd", LATER)], "not_granted"),
    # a revocation whose time cannot be read: in force whatever the date
    5: ([("marketing", "granted", EARLY), ("marketing", "revoked", "not a date")], "not_granted"),
    6: ([("personalisation", "granted", EARLY)], "none"),
    7: ([("marketing", "granted", AFTER_THE_DATE)], "none"),
    # plus one row with an unknown channel for the account (below): revokes every channel
    8: ([("marketing", "granted", EARLY)], "not_granted"),
    # an unreadable grant after a revocation does not restore consent
    9: (
        [
            ("marketing", "granted", EARLY),
            ("marketing", "revoked", LATER),
            ("marketing", "granted!!", LATEST),
        ],
        "not_granted",
    ),
}
UNKNOWN_CHANNEL_KIND = 8
PLANTED_TABLES = ("consents", "suppressions")


def _digest(customer_id: str) -> int:
    return int(hashlib.sha256(customer_id.encode()).hexdigest()[:8], 16)


def _kind(customer_id: str) -> int:
    return _digest(customer_id) % len(HISTORIES)


def _text_table(columns: dict[str, list[str | None]]) -> pa.Table:
    return pa.table({name: pa.array(values, pa.string()) for name, values in columns.items()})


def plant_consents(customer_ids: list[str]) -> pa.Table:
    rows: list[tuple[str, str, str, str, str, str]] = []
    for customer_id in customer_ids:
        kind = _kind(customer_id)
        for channel in CHANNELS:
            for purpose, status, recorded_at in HISTORIES[kind][0]:
                rows.append((customer_id, channel, purpose, status, recorded_at, "signup_form"))
        if kind == UNKNOWN_CHANNEL_KIND:
            rows.append((customer_id, "carrier-pigeon", "marketing", "revoked", LATER, "app"))
    return _text_table(
        {
            "consent_id": [f"PK{number:07d}" for number in range(len(rows))],
            "customer_id": [row[0] for row in rows],
            "channel": [row[1] for row in rows],
            "purpose": [row[2] for row in rows],
            "status": [row[3] for row in rows],
            "recorded_at": [row[4] for row in rows],
            "collection_point": [row[5] for row in rows],
        }
    )


def planted_suppressions(customer_ids: list[str]) -> dict[tuple[str, str], str]:
    """(account, channel) -> reason: hard bounces, and unreadable rows naming an account."""
    suppressed = {}
    for customer_id in customer_ids:
        if HISTORIES[_kind(customer_id)][1] != "granted":
            continue
        if _digest(customer_id) // 10 % 5 == 0:
            suppressed[(customer_id, "email")] = "hard_bounce"
        elif _digest(customer_id) // 10 % 5 == 1:
            suppressed[(customer_id, "sms")] = "bounced?"  # not a reason: quarantined
    return suppressed


def suppression_table(suppressed: dict[tuple[str, str], str]) -> pa.Table:
    entries = sorted(suppressed.items())
    return _text_table(
        {
            "suppression_id": [f"SP{number:06d}" for number in range(len(entries))],
            "customer_id": [account for (account, _), _ in entries],
            "email": [None] * len(entries),
            "phone": [None] * len(entries),
            "channel": [channel for (_, channel), _ in entries],
            "reason": [reason for _, reason in entries],
            "recorded_at": [LATER] * len(entries),
        }
    )


@dataclass
class Published:
    root: Path
    customer_ids: list[str]
    suppressed: dict[tuple[str, str], str]

    @property
    def published(self) -> Path:
        return self.root / "published" / "segment_warehouse.duckdb"

    @property
    def audience_dir(self) -> Path:
        return self.root / "published" / "audiences"

    def query(self, sql: str) -> pd.DataFrame:
        connection = duckdb.connect(str(self.published), read_only=True)
        try:
            return connection.execute(sql).df()
        finally:
            connection.close()


def _refresh(root: Path, raw_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        *REFRESH,
        "--target",
        "test",
        "--database",
        str(root / "warehouse.duckdb"),
        "--published",
        str(root / "published" / "segment_warehouse.duckdb"),
        "--target-path",
        str(root / "target"),
        "--as-of-date",
        AS_OF_DATE,
        *args,
    ]
    env = {**os.environ, "SEGMENT_WAREHOUSE_RAW_DATA_DIR": str(raw_dir)}
    return subprocess.run(command, env=env, capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def planted(demo_dataset: Path, tmp_path_factory: pytest.TempPathFactory) -> Published:
    root = tmp_path_factory.mktemp("audiences")
    raw_dir = root / "raw"
    raw_dir.mkdir()
    for source in (demo_dataset / "raw").iterdir():
        if source.stem not in PLANTED_TABLES:
            (raw_dir / source.name).symlink_to(source)
    customer_ids = sorted(
        pq.read_table(demo_dataset / "raw" / "customers.parquet", columns=["customer_id"])
        .column("customer_id")
        .drop_null()
        .unique()
        .to_pylist()
    )
    pq.write_table(plant_consents(customer_ids), raw_dir / "consents.parquet")
    suppressed = planted_suppressions(customer_ids)
    pq.write_table(suppression_table(suppressed), raw_dir / "suppressions.parquet")
    # the planted histories are rich in unreadable rows on purpose: let the gate pass them
    gates = {"tables": {table: {"quarantine_error_share": 0.9} for table in PLANTED_TABLES}}
    job = _refresh(root, raw_dir, "--vars", json.dumps({"quality.gates": gates}))
    assert job.returncode == 0, job.stdout + job.stderr
    return Published(root=root, customer_ids=customer_ids, suppressed=suppressed)


def _exports(planted: Published) -> dict[str, tuple[str, pd.DataFrame, pd.DataFrame]]:
    registry = planted.query("select audience, channel from audience_registry order by audience")
    exports = {}
    for audience, channel in registry.itertuples(index=False):
        parquet = pd.read_parquet(planted.audience_dir / f"{audience}.parquet")
        csv = pd.read_csv(planted.audience_dir / f"{audience}.csv", dtype=str)
        exports[audience] = (channel, parquet, csv)
    return exports


def test_no_exported_member_lacks_consent(planted: Published) -> None:
    accounts = planted.query(
        "select customer_id, source_customer_id from identity_map where source = 'shop'"
    )
    accounts_of = accounts.groupby("customer_id")["source_customer_id"].apply(list).to_dict()
    exports = _exports(planted)
    assert set(exports) >= {"lapsed_vips_email", "loyal_customers_sms", "new_customers_push"}
    exported_people = 0
    for audience, (channel, members, _) in exports.items():
        for customer_id in members["customer_id"]:
            outcomes = [HISTORIES[_kind(account)][1] for account in accounts_of[customer_id]]
            assert "granted" in outcomes, (audience, customer_id, outcomes)
            assert "not_granted" not in outcomes, (audience, customer_id, outcomes)
            listed = [
                account
                for account in accounts_of[customer_id]
                if (account, channel) in planted.suppressed
            ]
            assert not listed, (audience, customer_id, "on a suppression list", listed)
            exported_people += 1
    # the check above has something to check
    assert exported_people > 20


def test_people_with_planted_revocations_are_kept_out_for_the_right_reason(
    planted: Published,
) -> None:
    summary = planted.query("select * from audience_summary").set_index("audience")
    reasons = [column for column in summary.columns if column.startswith("suppressed_")]
    kept_out = summary[reasons].sum(axis=1)
    assert (summary["selected_count"] == summary["exported_count"] + kept_out).all()
    totals = summary[reasons].sum()
    # unreadable revocations (misspelled status, unreadable time, unknown channel) and the
    # unreadable suppression rows each keep people out
    assert totals["suppressed_consent_unreadable_count"] > 0
    assert totals["suppressed_consent_revoked_count"] > 0
    assert totals["suppressed_no_consent_count"] > 0
    assert totals["suppressed_hard_bounced_count"] + totals["suppressed_do_not_contact_count"] > 0
    assert (summary["exported_count"] > 0).sum() >= 2


def test_exports_match_the_published_members_and_carry_no_clear_contact_points(
    planted: Published,
) -> None:
    members = planted.query("select * from audience_members")
    assert "email" not in members.columns and "phone_e164" not in members.columns
    for audience, (channel, parquet, csv) in _exports(planted).items():
        expected = sorted(members.loc[members["audience"] == audience, "customer_id"])
        assert list(parquet["customer_id"]) == expected
        assert list(csv["customer_id"].fillna("")) == expected
        keys = {"paid_ads": ["customer_id", "email_sha256", "phone_sha256"]}
        assert list(parquet.columns) == keys.get(channel, ["customer_id"])
        assert list(csv.columns) == list(parquet.columns)


def test_paid_ads_keys_are_sha256_of_the_normalised_email(
    planted: Published, demo_dataset: Path
) -> None:
    customers = pd.read_parquet(demo_dataset / "raw" / "customers.parquet")
    emails = customers.dropna(subset=["email", "customer_id"])
    accounts = planted.query(
        "select customer_id, source_customer_id from identity_map where source = 'shop'"
    )
    person_of = dict(zip(accounts["source_customer_id"], accounts["customer_id"], strict=True))
    hashes_of: dict[str, set[str]] = {}
    for account, email in zip(emails["customer_id"], emails["email"], strict=True):
        if account in person_of:
            digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
            hashes_of.setdefault(person_of[account], set()).add(digest)
    members = planted.query(
        "select customer_id, email_sha256, phone_sha256 from audience_members "
        "where channel = 'paid_ads'"
    )
    assert len(members) > 0
    for customer_id, email_sha256, phone_sha256 in members.itertuples(index=False):
        assert pd.notna(email_sha256) or pd.notna(phone_sha256)
        if pd.notna(email_sha256):
            assert email_sha256 in hashes_of[customer_id]
        if pd.notna(phone_sha256):
            assert len(phone_sha256) == 64 and set(phone_sha256) <= set("0123456789abcdef")
