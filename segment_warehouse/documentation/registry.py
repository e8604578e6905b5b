"""The segment registry (var ``segment_families`` in dbt_project.yml), read for documentation.

dbt reads the registry itself (macros/segments/segment_families.sql); this module renders it
as Markdown for the README, with each ``{{ var('name') }}`` replaced by the var's default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from segment_warehouse.documentation.readme import section_cli
from segment_warehouse.paths import PROJECT_DIR

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


def _family_table(family: dict[str, Any], variables: dict[str, Any]) -> list[str]:
    """Render the family's summary line and its segments table, in priority order."""
    lines = [
        f"{_cell(family['description'])} *Group:* {family.get('group', 'other')}; "
        f"*owner:* {family['owner']}; *reason quotes:* "
        + ", ".join(f"`{metric}`" for metric in family.get("metrics") or [])
        + ".",
        "",
        "| priority | segment | rule (default vars) | meaning |",
        "| --- | --- | --- | --- |",
    ]
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
    return lines


def render_markdown(families: list[dict[str, Any]], variables: dict[str, Any] | None = None) -> str:
    """Render every family as a heading and a table of its segments in priority order."""
    variables = variables or {}
    lines: list[str] = []
    for family in families:
        lines.append(f"#### `{family['family']}` → `customer_segments.{family['column']}`")
        lines.append("")
        lines.extend(_family_table(family, variables))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def doc_block_name(family: dict[str, Any]) -> str:
    """Name of the dbt doc block that defines ``family``: ``segment_family_<family>``."""
    return f"segment_family_{family['family']}"


def render_doc_blocks(
    families: list[dict[str, Any]], variables: dict[str, Any] | None = None
) -> str:
    """Render one dbt doc block per family (its definition and segments table).

    The columns of customer_segments and the registry model quote them with ``doc()``, so
    dbt's docs site shows each family's rules next to the column.
    """
    variables = variables or {}
    lines = [
        "{#- Generated from the segment registry (var segment_families) by",
        "    `make registry-docs`; a test keeps it current. -#}",
        "",
    ]
    for family in families:
        lines.append(f"{{% docs {doc_block_name(family)} %}}")
        lines.append(f"Segment family `{family['family']}`.")
        lines.append("")
        lines.extend(_family_table(family, variables))
        lines.append("{% enddocs %}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


DOC_BLOCKS_PATH = PROJECT_DIR / "models" / "marts" / "segments" / "_segments__families.md"


def main(argv: list[str] | None = None) -> None:
    """Print the section as Markdown, or with ``--write README`` refresh it there.

    With ``--write`` the doc blocks (DOC_BLOCKS_PATH) are rewritten as well.
    """
    section_cli(SECTION, lambda: render_markdown(load_registry(), load_project_vars()), argv)
    if argv is None:
        import sys

        argv = sys.argv[1:]
    if "--write" in argv:
        DOC_BLOCKS_PATH.write_text(render_doc_blocks(load_registry(), load_project_vars()))


if __name__ == "__main__":
    main()
