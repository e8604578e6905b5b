"""The segment registry: one file per family, models/marts/segments/families/<family>.yml.

Each family file is a dbt properties file declaring one exposure (``segment_family_<family>``)
whose ``config.meta.segment_family`` holds the family: column, order, group, metrics,
params with their defaults, and segments; the exposure's description and owner are the
family's. dbt reads them from its graph (macros/segments/segment_families.sql). This
module reads the same files to generate what dbt cannot read for itself:

- the README section "registry" and the dbt doc blocks of every family (Markdown, rules
  shown with their default params and vars);
- macros/segments/segment_family_declarations.sql, the family files as data for
  contexts without the graph (dbt unit tests). segment_families stops a dbt run when it
  differs from the family files, so ``make registry-docs`` after editing one is required.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from segment_warehouse.documentation.readme import section_cli
from segment_warehouse.paths import project_dir as current_project_dir

SECTION = "registry"
FAMILIES_DIR = Path("models") / "marts" / "segments" / "families"
DOC_BLOCKS_FILE = Path("models") / "marts" / "segments" / "_segments__families.md"
DECLARATIONS_FILE = Path("macros") / "segments" / "segment_family_declarations.sql"
_VAR = re.compile(r"\{\{\s*var\(\s*['\"]([\w.]+)['\"]\s*\)\s*\}\}")
_PLACEHOLDER = re.compile(r"\{(var:)?([a-z_][a-z0-9_.]*)\}")


def load_project_vars(project_dir: Path | None = None) -> dict[str, Any]:
    """Return the vars of dbt_project.yml with their defaults."""
    project_dir = project_dir or current_project_dir()
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    return dict(project.get("vars") or {})


def load_declarations(project_dir: Path | None = None) -> list[dict[str, Any]]:
    """Return every family file as ``{"file": <path>, "raw": <family>}``, by path.

    ``raw`` is what the segment_families macro builds from the graph: the exposure's
    description and owner name, updated with its ``config.meta.segment_family``.
    """
    project_dir = project_dir or current_project_dir()
    declarations = []
    for path in sorted((project_dir / FAMILIES_DIR).glob("*.yml")):
        properties = yaml.safe_load(path.read_text()) or {}
        for exposure in properties.get("exposures") or []:
            meta = (exposure.get("config") or {}).get("meta") or exposure.get("meta") or {}
            if meta.get("segment_family") is None:
                continue
            raw = {
                "description": exposure.get("description", ""),
                "owner": (exposure.get("owner") or {}).get("name"),
            }
            raw.update(_as_rendered(meta["segment_family"]))
            file = path.relative_to(project_dir).as_posix()
            declarations.append({"file": file, "raw": raw})
    return sorted(declarations, key=lambda declaration: declaration["file"])


def _as_rendered(value: Any) -> Any:
    """Return the value as dbt's graph holds it.

    dbt renders properties with Jinja, which drops one trailing newline of each string
    (e.g. of a folded ``>`` block).
    """
    if isinstance(value, str):
        return value.removesuffix("\n")
    if isinstance(value, dict):
        return {key: _as_rendered(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_rendered(item) for item in value]
    return value


def load_registry(project_dir: Path | None = None) -> list[dict[str, Any]]:
    """Return the families as written in their files, in their ``order``.

    Each is a dict with family, column, order, group, description, owner, metrics,
    params (defaults) and segments, plus ``file`` (its path in the project).
    """
    project_dir = project_dir or current_project_dir()
    families = [
        {**declaration["raw"], "file": declaration["file"]}
        for declaration in load_declarations(project_dir)
    ]
    return sorted(families, key=lambda family: family["order"])


def render_rule(rule: str, variables: dict[str, Any], params: dict[str, Any] | None = None) -> str:
    """Fill in a rule's placeholders and fold whitespace.

    ``{name}`` is the family's param, ``{var:name}`` (or ``{{ var('name') }}``) the var.
    """
    params = params or {}
    filled = _VAR.sub(lambda match: str(variables[match.group(1)]), rule)
    # an unknown name stays as written: dbt stops the run on it, naming the family file
    filled = _PLACEHOLDER.sub(
        lambda match: str((variables if match[1] else params).get(match[2], match[0])), filled
    )
    return " ".join(filled.split())


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _family_table(family: dict[str, Any], variables: dict[str, Any]) -> list[str]:
    """Render the family's summary line and its segments table, in priority order."""
    params = family.get("params") or {}
    lines = [
        f"{_cell(family['description'])} *Group:* {family.get('group', 'other')}; "
        f"*owner:* {family['owner']}; *reason quotes:* "
        + ", ".join(f"`{metric}`" for metric in family.get("metrics") or [])
        + ".",
    ]
    if params:
        lines.append("")
        lines.append(
            "*Params (defaults; override with var `segments.params`):* "
            + ", ".join(f"`{name}` = {value}" for name, value in params.items())
            + "."
        )
    lines += [
        "",
        "| priority | segment | rule (default params) | meaning |",
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
        rule = _cell(render_rule(segment["rule"], variables, params))
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
        if family.get("file"):
            lines.append(f"Declared in `{family['file']}`.")
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
        "{#- Generated from the family files (models/marts/segments/families/*.yml) by",
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


def render_declarations_macro(declarations: list[dict[str, Any]]) -> str:
    """Return the dbt macro holding the family files as data (see the module docstring)."""
    data = json.dumps(declarations, indent=2, ensure_ascii=False, sort_keys=True)
    # Jinja would read these inside the set block; they only occur inside JSON strings,
    # where the escaped second character means the same.
    for pair, escaped in (("{{", "{\\u007b"), ("{%", "{\\u0025"), ("{#", "{\\u0023")):
        data = data.replace(pair, escaped)
    return "\n".join(
        [
            "{#- Generated from the family files (models/marts/segments/families/*.yml) by",
            "    `make registry-docs`: the declarations as data, for contexts without dbt's",
            "    graph (unit tests). Do not edit; segment_families stops a run when this",
            "    differs from the family files. -#}",
            "{% macro segment_family_declarations() %}",
            "{%- set declarations -%}",
            data,
            "{%- endset -%}",
            "{{ return(fromjson(declarations)) }}",
            "{% endmacro %}",
            "",
        ]
    )


def write_generated(project_dir: Path | None = None) -> None:
    """Rewrite the doc blocks and the declarations macro from the family files."""
    project_dir = project_dir or current_project_dir()
    families = load_registry(project_dir)
    variables = load_project_vars(project_dir)
    (project_dir / DOC_BLOCKS_FILE).write_text(render_doc_blocks(families, variables))
    (project_dir / DECLARATIONS_FILE).write_text(
        render_declarations_macro(load_declarations(project_dir))
    )


def main(argv: list[str] | None = None) -> None:
    """Print the section as Markdown, or with ``--write README`` refresh it there.

    With ``--write`` the doc blocks and the declarations macro are rewritten as well.
    ``--project-dir DIR`` (default: the project of the working directory) reads and writes
    another project.
    """
    if argv is None:
        import sys

        argv = sys.argv[1:]
    argv = list(argv)
    project_dir = None
    if "--project-dir" in argv:
        index = argv.index("--project-dir")
        project_dir = Path(argv[index + 1]).resolve()
        del argv[index : index + 2]
    section_cli(
        SECTION,
        lambda: render_markdown(load_registry(project_dir), load_project_vars(project_dir)),
        argv,
    )
    if "--write" in argv:
        write_generated(project_dir)


if __name__ == "__main__":
    main()
