"""Which models are public, read from dbt's manifest, and SQL quoting for the copies.

A model is published when its access is ``public`` (and it is not ephemeral). Unless PII
is asked for, its relation is rewritten so that the published file cannot single a person
out (docs/privacy.md, "What the published file promises"):

- columns tagged ``meta: {pii: true}`` are left out;
- columns tagged ``meta: {quasi_identifier: <column>}`` show that column of the model
  ``customer_quasi_identifiers`` (joined on ``customer_id``): the generalised value;
- a model tagged ``config: {meta: {quasi_identifier_rows: <column>}}`` leaves out the rows
  whose <column> names a segment family of a quasi-identifier (a family whose segment
  column is tagged ``quasi_identifier``), e.g. ``age_years=43`` in a ``reason``;
- columns tagged ``meta: {pseudonymised: person_id}`` (a person id or record key) and
  ``meta: {pseudonymised: source_id}`` (a source record id beside a ``source`` column)
  show a hash instead of a loyalty card number or a web anonymous id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class PublishError(RuntimeError):
    """Publishing failed, or a manifest or published file could not be read."""


QUASI_IDENTIFIER_MODEL = "customer_quasi_identifiers"
"""The model that holds, per person, the generalised value of every quasi-identifier."""

PERSON_KEY = "customer_id"
"""The column that joins a customer-level public model to the quasi-identifier model."""

PSEUDONYM_HEX_DIGITS = 16
"""Length of the SHA-256 prefix that replaces a card number or an anonymous id."""

CLEAR_SOURCE = "shop"
"""The source whose record ids (shop account ids) are person ids and stay in clear."""


# ---- which models are public ------------------------------------------------------------


def public_models(manifest_path: Path, *, include_pii: bool = False) -> dict[str, str]:
    """Find the models with access ``public`` in a dbt manifest and the relation each reads.

    Args:
        manifest_path: dbt's ``target/manifest.json``.
        include_pii: Publish exact values: columns tagged ``meta: {pii: true}``, exact
            quasi-identifiers, their segment families' rows and ids in clear. By default
            PII columns are left out, quasi-identifiers generalised and ids pseudonymised
            (see the module docstring).

    Returns:
        Model name -> relation to read, as ``"schema"."identifier"`` (quoted, without the
        database, so it resolves in whichever catalog the warehouse is attached as), or a
        subquery over it that applies the rules above, sorted by model name. Ephemeral
        models are left out: they have no relation to copy.

    Raises:
        PublishError: The manifest is missing, unreadable or not a dbt manifest, two public
            models share a name, or a tag cannot be honoured (the quasi-identifier model
            or a column it names is missing, a tagged model lacks ``customer_id`` or
            ``source``): nothing is published rather than exact values.

    """
    manifest = _manifest(manifest_path)
    nodes = manifest["nodes"]
    public = [node for node in nodes.values() if _is_public_model(node)]
    quasi_identifier_model = None if include_pii else _quasi_identifier_model(nodes, public)
    families = [] if include_pii else quasi_identifier_families(manifest)
    models: dict[str, str] = {}
    for node in public:
        name = node["name"]
        if name in models:
            raise PublishError(f"{manifest_path}: two public models are named {name!r}")
        relation = _relation(node)
        if not include_pii:
            relation = _private_relation(node, relation, quasi_identifier_model, families)
        models[name] = relation
    return dict(sorted(models.items()))


def quasi_identifier_families(manifest: Mapping[str, Any]) -> list[str]:
    """Segment families (exposures with ``meta.segment_family``) of a quasi-identifier.

    A family is one when its segment column is tagged ``meta: {quasi_identifier: ...}`` in
    a public model (customer_segments): its rows in long tables give the exact segment,
    and their ``reason`` may quote the exact value (``age_years=43``).
    """
    tagged = {
        column
        for node in manifest.get("nodes", {}).values()
        if _is_public_model(node)
        for column in _tagged_columns(node, "quasi_identifier")
    }
    families = set()
    for exposure in (manifest.get("exposures") or {}).values():
        meta = exposure.get("config", {}).get("meta") or exposure.get("meta") or {}
        family = meta.get("segment_family")
        if isinstance(family, Mapping) and family.get("column") in tagged:
            families.add(str(family["family"]))
    return sorted(families)


def _relation(node: Mapping[str, Any]) -> str:
    identifier = node.get("alias") or node["name"]
    return f"{quote_identifier(node['schema'])}.{quote_identifier(identifier)}"


def _quasi_identifier_model(
    nodes: Mapping[str, Any], public: list[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """Find the quasi-identifier model's node; None when no public model needs it."""
    if not any(_tagged_columns(node, "quasi_identifier") for node in public):
        return None
    for node in nodes.values():
        if node.get("resource_type") == "model" and node.get("name") == QUASI_IDENTIFIER_MODEL:
            return node
    raise PublishError(
        f"public columns are tagged quasi_identifier but model {QUASI_IDENTIFIER_MODEL} "
        "is not in the manifest: refusing to publish exact quasi-identifiers"
    )


def _private_relation(
    node: Mapping[str, Any],
    relation: str,
    quasi_identifier_model: Mapping[str, Any] | None,
    families: list[str],
) -> str:
    """Apply the publication rules to a relation (rows, generalised values, ids, PII)."""
    name = node["name"]
    columns = node.get("columns") or {}
    row_column = _node_meta(node).get("quasi_identifier_rows")
    if row_column and families:
        listed = ", ".join(quote_literal(family) for family in sorted(families))
        column = quote_identifier(row_column)
        relation = f"(select * from {relation} where coalesce({column} not in ({listed}), false))"
    generalised = _tagged_columns(node, "quasi_identifier")
    if generalised:
        assert quasi_identifier_model is not None  # found for any tagged public model
        available = set(quasi_identifier_model.get("columns") or {})
        missing = sorted(set(generalised.values()) - available)
        if missing or PERSON_KEY not in columns:
            raise PublishError(
                f"{name}: quasi-identifier columns {missing} are not in "
                f"{QUASI_IDENTIFIER_MODEL}, or the model has no {PERSON_KEY}"
            )
        replaced = ", ".join(
            f"q.{quote_identifier(source)} as {quote_identifier(column)}"
            for column, source in generalised.items()
        )
        key = quote_identifier(PERSON_KEY)
        relation = (
            f"(select t.* replace ({replaced}) from {relation} as t "
            f"left join {_relation(quasi_identifier_model)} as q on t.{key} = q.{key})"
        )
    pseudonymised = _tagged_columns(node, "pseudonymised")
    if pseudonymised:
        expressions = ", ".join(
            f"{_pseudonym_sql(column, kind, name, columns)} as {quote_identifier(column)}"
            for column, kind in pseudonymised.items()
        )
        relation = f"(select * replace ({expressions}) from {relation})"
    pii = pii_columns(node)
    if pii:
        excluded = ", ".join(quote_identifier(column) for column in pii)
        relation = f"(select * exclude ({excluded}) from {relation})"
    return relation


def _pseudonym_sql(column: str, kind: str, model: str, columns: Mapping[str, Any]) -> str:
    """Return SQL that pseudonymises a person id or record key, or a source record id.

    A person id of a card-only person (``pos:<card>``) or a visitor (``web:<id>``) becomes
    ``pos:`` and the first 16 hex digits of SHA-256 of the whole id; a shop account id
    (no ``source:`` prefix, or ``shop:``) stays. A source record id of any source but
    shop becomes the same digits of SHA-256 of ``<source>:<id>``, so identity_map keeps
    ``customer_id = source || ':' || source_customer_id`` for card-only people.
    """
    value = quote_identifier(column)
    digits = PSEUDONYM_HEX_DIGITS
    if kind == "person_id":
        return (
            f"case when {value} is null or not contains({value}, ':') "
            f"or starts_with({value}, {quote_literal(CLEAR_SOURCE + ':')}) then {value} "
            f"else split_part({value}, ':', 1) || ':' || left(sha256({value}), {digits}) end"
        )
    if kind == "source_id":
        if "source" not in columns:
            raise PublishError(f"{model}.{column} is tagged source_id but {model} has no source")
        source = quote_identifier("source")
        return (
            f"case when {value} is null or {source} = {quote_literal(CLEAR_SOURCE)} "
            f"then {value} else left(sha256({source} || ':' || {value}), {digits}) end"
        )
    raise PublishError(f"{model}.{column}: unknown pseudonymised kind {kind!r}")


def _node_meta(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return {**(node.get("meta") or {}), **(node.get("config", {}).get("meta") or {})}


def _tagged_columns(node: Mapping[str, Any], key: str) -> dict[str, str]:
    """Column -> value of ``meta.<key>`` (in ``meta`` or ``config.meta``), in model order."""
    tagged = {}
    for name, column in (node.get("columns") or {}).items():
        meta = {**(column.get("meta") or {}), **(column.get("config", {}).get("meta") or {})}
        if meta.get(key) is not None:
            tagged[column.get("name") or name] = str(meta[key])
    return tagged


def pii_columns(node: Mapping[str, Any]) -> list[str]:
    """Columns of a manifest node tagged ``meta: {pii: true}`` (in ``meta`` or ``config``)."""
    columns = node.get("columns") or {}
    return [
        column.get("name") or key
        for key, column in columns.items()
        if column.get("meta", {}).get("pii") is True
        or column.get("config", {}).get("meta", {}).get("pii") is True
    ]


def _manifest(manifest_path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(Path(manifest_path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PublishError(f"cannot read dbt manifest {manifest_path}: {error}") from error
    nodes = manifest.get("nodes") if isinstance(manifest, dict) else None
    if not isinstance(nodes, dict):
        raise PublishError(f"{manifest_path} is not a dbt manifest: it has no 'nodes' mapping")
    return manifest


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
