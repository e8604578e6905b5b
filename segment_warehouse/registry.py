"""The segment registry (var ``segment_families`` in dbt_project.yml), read for documentation.

dbt reads the registry itself (macros/segments/segment_families.sql); this module renders it
as Markdown for the README, with each ``{{ var('name') }}`` replaced by the var's default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from segment_warehouse.readme import section_cli

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECTION = "registry"
_VAR = re.compile(r"\{\{\s*var\(\s*['\"](\w+)['\"]\s*\)\s*\}\}")


def load_project_vars(project_dir: Path = PROJECT_DIR) -> dict[str, Any]:
    """Return the vars of dbt_project.yml with their defaults."""
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def load_registry(project_dir: Path = PROJECT_DIR) -> list[dict[str, Any]]:
    """Return the registry's families as written in dbt_project.yml."""
    return list(load_project_vars(project_dir)["segment_families"])


def render_rule(rule: str, variables: dict[str, Any]) -> str:
    """Fill in ``{{ var('name') }}`` with the var's value and fold whitespace."""
    filled = _VAR.sub(lambda match: str(variables[match.group(1)]), rule)
    return " ".join(filled.split())


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def render_markdown(families: list[dict[str, Any]], variables: dict[str, Any] | None = None) -> str:
    """Render every family as a heading and a table of its segments in priority order."""
    variables = variables or {}
    lines: list[str] = []
    for family in families:
        lines.append(f"#### `{family['family']}` → `customer_segments.{family['column']}`")
        lines.append("")
        lines.append(
            f"{_cell(family['description'])} *Group:* {family.get('group', 'other')}; "
            f"*owner:* {family['owner']}; *reason quotes:* "
            + ", ".join(f"`{metric}`" for metric in family.get("metrics") or [])
            + "."
        )
        lines.append("")
        lines.append("| priority | segment | rule (default vars) | meaning |")
        lines.append("| --- | --- | --- | --- |")
        rules = sorted(
            (segment for segment in family["segments"] if not segment.get("fallback")),
            key=lambda segment: segment["priority"],
        )
        fallback = [segment for segment in family["segments"] if segment.get("fallback")]
        for segment in rules:
            name = _cell(segment["segment"])
            if segment.get("value"):
                name += f" (label: `{_cell(segment['value'])}`)"
            if segment.get("status", "active") == "retired":
                name += " — *retired*"
            rule = _cell(render_rule(segment["rule"], variables))
            lines.append(
                f"| {segment['priority']} | {name} | `{rule}` | {_cell(segment['description'])} |"
            )
        for segment in fallback:
            lines.append(
                f"| last | {_cell(segment['segment'])} | *fallback: no rule holds* "
                f"| {_cell(segment['description'])} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> None:
    """Print the section as Markdown, or with ``--write README`` refresh it there."""
    section_cli(SECTION, lambda: render_markdown(load_registry(), load_project_vars()), argv)


if __name__ == "__main__":
    main()
