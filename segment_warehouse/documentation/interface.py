"""The public interface BI relies on: every public mart's columns and types, and its version.

The interface is read from the models' YAML (``access: public``, the contract's
``data_type`` of each column, ``latest_version`` when the model is versioned) and recorded in
``models/marts/public_interface.json``. A test compares the two: a public mart may
gain columns, but removing or retyping one is an incompatible change that must come with a
new model version (dbt ``versions:``), and adding or removing a public mart must be
recorded. ``make public-interface`` rewrites the file after a deliberate change.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from segment_warehouse.paths import project_dir as current_project_dir

INTERFACE_FILE = Path("models") / "marts" / "public_interface.json"


def read_interface(project_dir: Path | None = None) -> dict[str, dict[str, Any]]:
    """Public model name -> ``{"version": latest_version or None, "columns": {name: type}}``."""
    project_dir = project_dir or current_project_dir()
    interface: dict[str, dict[str, Any]] = {}
    for path in sorted((project_dir / "models").rglob("_*__models.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            if model.get("access") != "public":
                continue
            interface[model["name"]] = {
                "version": model.get("latest_version"),
                "columns": {
                    column["name"]: " ".join(str(column.get("data_type", "")).lower().split())
                    for column in model.get("columns") or []
                },
            }
    return dict(sorted(interface.items()))


def incompatible_changes(
    recorded: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> list[str]:
    """Describe every change from ``recorded`` to ``current`` that BI could not absorb.

    A model whose version changed may change freely; otherwise a removed model, or a
    removed or retyped column, is incompatible. New models and new columns are not, but a
    new public model is reported so that it gets recorded.
    """
    problems = []
    for name, before in recorded.items():
        after = current.get(name)
        if after is None:
            problems.append(f"{name}: public model removed (or no longer public)")
            continue
        if after["version"] != before["version"]:
            continue
        for column, data_type in before["columns"].items():
            if column not in after["columns"]:
                problems.append(f"{name}.{column}: column removed without a new version")
            elif after["columns"][column] != data_type:
                problems.append(
                    f"{name}.{column}: type {data_type} -> {after['columns'][column]} "
                    "without a new version"
                )
    for name in current.keys() - recorded.keys():
        problems.append(f"{name}: new public model not recorded in {INTERFACE_FILE.name}")
    return sorted(problems)


def main(argv: Sequence[str] | None = None) -> int:
    """Print the interface, or with ``--write`` record it in the project's INTERFACE_FILE."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"rewrite {INTERFACE_FILE.name}")
    args = parser.parse_args(argv)
    text = json.dumps(read_interface(), indent=2) + "\n"
    if args.write:
        interface_path = current_project_dir() / INTERFACE_FILE
        interface_path.write_text(text)
        print(f"wrote {interface_path}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
