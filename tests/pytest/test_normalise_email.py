"""normalise_email_for_matching, compiled by dbt and run on DuckDB with the provider rules on
and off (dbt cannot unit test a macro alone; `dbt show --inline` runs it on literal rows)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from segment_warehouse.pipeline.dbt_runner import run_dbt

pytestmark = pytest.mark.dbt

# (raw address, with the provider rules, without them)
CASES: tuple[tuple[str | None, str | None, str | None], ...] = (
    (" A.B+x@GoogleMail.com ", "ab@gmail.com", "a.b+x@googlemail.com"),
    ("first.last+news@gmail.com", "firstlast@gmail.com", "first.last+news@gmail.com"),
    ("First.Last@Gmail.com", "firstlast@gmail.com", "first.last@gmail.com"),
    ("first.last+news@example.com", "first.last@example.com", "first.last+news@example.com"),
    ("x+a+b@example.org", "x@example.org", "x+a+b@example.org"),
    ("a.b@gmail.com.example.org", "a.b@gmail.com.example.org", "a.b@gmail.com.example.org"),
    ("+tag@example.com", "+tag@example.com", "+tag@example.com"),
    ("jane@example.com", "jane@example.com", "jane@example.com"),
    ("Not An Email ", "not an email", "not an email"),
    ("a+b@c@gmail.com", "a+b@c@gmail.com", "a+b@c@gmail.com"),
    (None, None, None),
)


def _literal(value: str | None) -> str:
    return "null" if value is None else "'" + value.replace("'", "''") + "'"


def _normalised(provider_rules: bool, work_dir: Path) -> list[str | None]:
    """Each case's address as the macro normalises it, in the order of CASES."""
    rows = ", ".join(f"({i}, {_literal(raw)})" for i, (raw, _, _) in enumerate(CASES))
    query = (
        "select position, {{ normalise_email_for_matching('email') }} as normalised "
        f"from (values {rows}) as emails (position, email) order by position"
    )
    run = run_dbt(
        ["show", "--inline", query, "--limit", str(len(CASES)), "--output", "json", "--quiet"],
        target="lint",
        variables={"identity.email_provider_rules": provider_rules},
        target_path=work_dir / "target",
        log_path=work_dir / "logs",
    )
    shown, _ = json.JSONDecoder().raw_decode(run.output[run.output.index('{\n  "show"') :])
    assert [row["position"] for row in shown["show"]] == list(range(len(CASES)))
    return [row["normalised"] for row in shown["show"]]


@pytest.fixture(scope="module")
def normalised(tmp_path_factory: pytest.TempPathFactory) -> dict[bool, list[str | None]]:
    """The cases normalised with the rules on and off; both dbt runs at once (each spends
    most of its time parsing the project)."""
    settings = (True, False)
    with ThreadPoolExecutor(max_workers=len(settings)) as pool:
        runs = {
            setting: pool.submit(_normalised, setting, tmp_path_factory.mktemp(f"rules_{setting}"))
            for setting in settings
        }
        return {setting: run.result() for setting, run in runs.items()}


def test_provider_rules_drop_tags_and_gmail_dots(
    normalised: dict[bool, list[str | None]],
) -> None:
    assert normalised[True] == [on for _, on, _ in CASES]


def test_without_provider_rules_an_address_is_only_trimmed_and_lower_cased(
    normalised: dict[bool, list[str | None]],
) -> None:
    assert normalised[False] == [off for _, _, off in CASES]
