"""Which models are public, read from dbt's manifest, and SQL quoting for the copies.

A model is published when its access is ``public`` (and it is not ephemeral); columns
tagged ``meta: {pii: true}`` are left out unless asked for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class PublishError(RuntimeError):
    """Publishing failed, or a manifest or published file could not be read."""


# ---- which models are public ------------------------------------------------------------


def public_models(manifest_path: Path, *, include_pii: bool = False) -> dict[str, str]:
    """Find the models with access ``public`` in a dbt manifest and the relation each reads.

    Args:
        manifest_path: dbt's ``target/manifest.json``.
        include_pii: Publish columns tagged ``meta: {pii: true}`` too. By default they are
            left out: the relation of a model with such columns selects every other column.

    Returns:
        Model name -> relation to read, as ``"schema"."identifier"`` (quoted, without the
        database, so it resolves in whichever catalog the warehouse is attached as), or
        ``(select * exclude ("pii column", ...) from "schema"."identifier")``, sorted by
        model name. Ephemeral models are left out: they have no relation to copy.

    Raises:
        PublishError: The manifest is missing, unreadable or not a dbt manifest, or two public
            models share a name.

    """
    models: dict[str, str] = {}
    for node in _manifest_nodes(manifest_path).values():
        if not _is_public_model(node):
            continue
        name = node["name"]
        if name in models:
            raise PublishError(f"{manifest_path}: two public models are named {name!r}")
        identifier = node.get("alias") or name
        relation = f"{quote_identifier(node['schema'])}.{quote_identifier(identifier)}"
        pii = [] if include_pii else pii_columns(node)
        if pii:
            excluded = ", ".join(quote_identifier(column) for column in pii)
            relation = f"(select * exclude ({excluded}) from {relation})"
        models[name] = relation
    return dict(sorted(models.items()))


def pii_columns(node: Mapping[str, Any]) -> list[str]:
    """Columns of a manifest node tagged ``meta: {pii: true}`` (in ``meta`` or ``config``)."""
    columns = node.get("columns") or {}
    return [
        column.get("name") or key
        for key, column in columns.items()
        if column.get("meta", {}).get("pii") is True
        or column.get("config", {}).get("meta", {}).get("pii") is True
    ]


def _manifest_nodes(manifest_path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(Path(manifest_path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PublishError(f"cannot read dbt manifest {manifest_path}: {error}") from error
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    if not isinstance(nodes, dict):
        raise PublishError(f"{manifest_path} is not a dbt manifest: it has no 'nodes' mapping")
    return nodes


def _is_public_model(node: Mapping[str, Any]) -> bool:
    return (
        node.get("resource_type") == "model"
        and node.get("access") == "public"
        and node.get("config", {}).get("materialized") != "ephemeral"
    )


def quote_identifier(name: str) -> str:
    """Quote a SQL identifier for DuckDB, doubling any double quote inside it."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(text: str) -> str:
    """Quote a SQL string literal for DuckDB, doubling any single quote inside it."""
    return "'" + text.replace("'", "''") + "'"
