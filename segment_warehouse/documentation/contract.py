"""The raw data contract, read from the dbt sources YAML (the single place it is defined)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from segment_warehouse.documentation.readme import section_cli
from segment_warehouse.paths import project_dir as current_project_dir

SOURCES_GLOB = "models/staging/*/_*__sources.yml"


@dataclass(frozen=True)
class ContractColumn:
    """One column of a raw table."""

    name: str
    type: str
    required: bool
    description: str


@dataclass(frozen=True)
class ContractTable:
    """One raw table: its source system, whether it is required, and its columns."""

    source: str
    name: str
    required: bool
    primary_key: str
    description: str
    columns: tuple[ContractColumn, ...]


def _text(value: str | None) -> str:
    return " ".join((value or "").split())


def load_contract(project_dir: Path | None = None) -> list[ContractTable]:
    """Read every raw table of the contract from the project's sources YAML files.

    ``project_dir`` defaults to the current project (:mod:`segment_warehouse.paths`).
    """
    project_dir = project_dir or current_project_dir()
    tables = []
    for path in sorted(project_dir.glob(SOURCES_GLOB)):
        document = yaml.safe_load(path.read_text())
        for source in document["sources"]:
            if not source.get("meta", {}).get("raw_contract", False):
                continue
            for table in source["tables"]:
                meta = table.get("meta", {})
                columns = tuple(
                    ContractColumn(
                        name=column["name"],
                        type=column.get("meta", {}).get("type", "text"),
                        required=bool(column.get("meta", {}).get("required", False)),
                        description=_text(column.get("description")),
                    )
                    for column in table.get("columns", [])
                )
                tables.append(
                    ContractTable(
                        source=source["name"],
                        name=table["name"],
                        required=bool(meta.get("required", False)),
                        primary_key=meta.get("primary_key", ""),
                        description=_text(table.get("description")),
                        columns=columns,
                    )
                )
    return tables


def render_markdown(tables: list[ContractTable]) -> str:
    """Render the contract as Markdown: one section and column table per raw table."""
    lines: list[str] = []
    ordered = sorted(tables, key=lambda table: (not table.required, table.source, table.name))
    for table in ordered:
        status = "required" if table.required else "optional"
        lines.append(f"#### `{table.name}` ({status}; source `{table.source}`)")
        lines.append("")
        lines.append(table.description)
        lines.append("")
        lines.append("| column | type | required | meaning |")
        lines.append("| --- | --- | --- | --- |")
        for column in table.columns:
            required = "yes" if column.required else ""
            description = column.description.replace("|", "\\|")
            lines.append(f"| `{column.name}` | {column.type} | {required} | {description} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


SECTION = "contract"


def main(argv: list[str] | None = None) -> None:
    """Print the section as Markdown, or with ``--write README`` refresh it there."""
    section_cli(SECTION, lambda: render_markdown(load_contract()), argv)


if __name__ == "__main__":
    main()
