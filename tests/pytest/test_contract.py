"""The raw data contract: one definition, documented consistently."""

from __future__ import annotations

import json
import re

import yaml

from segment_warehouse.documentation import interface, registry
from segment_warehouse.documentation.contract import SECTION, load_contract, render_markdown
from segment_warehouse.documentation.readme import readme_section
from segment_warehouse.paths import PROJECT_DIR


def test_docs_document_the_contract_in_the_sources_yaml() -> None:
    page = (PROJECT_DIR / "docs" / "data-contract.md").read_text()
    assert readme_section(page, SECTION) == render_markdown(load_contract()), (
        "docs/data-contract.md contract section is stale: run `make contract-docs`"
    )


def test_only_orders_is_required_and_its_minimum_columns() -> None:
    tables = {table.name: table for table in load_contract()}
    assert [name for name, table in tables.items() if table.required] == ["orders"]
    required = [column.name for column in tables["orders"].columns if column.required]
    assert required == ["order_id", "customer_id", "ordered_at", "amount"]


def test_every_table_has_a_primary_key_among_its_required_columns() -> None:
    for table in load_contract():
        required = {column.name for column in table.columns if column.required}
        assert table.primary_key in required, table.name


def test_contract_types_are_known() -> None:
    known = {"text", "timestamp", "date", "decimal", "integer", "boolean"}
    for table in load_contract():
        for column in table.columns:
            assert column.type in known, (table.name, column.name, column.type)


def test_every_macro_is_documented_beside_it() -> None:
    """Each macro folder documents its own macros, in _<folder>__macros.yml."""
    defined = {}
    for path in (PROJECT_DIR / "macros").rglob("*.sql"):
        for match in re.finditer(r"\{%-?\s*(macro|test)\s+(\w+)\(", path.read_text()):
            prefix = "test_" if match.group(1) == "test" else ""
            defined[prefix + match.group(2)] = path.parent
    documented = {
        macro["name"]: path.parent
        for path in (PROJECT_DIR / "macros").rglob("_*macros.yml")
        for macro in yaml.safe_load(path.read_text())["macros"]
    }
    assert set(defined) - set(documented) == set(), "undocumented macros"
    assert set(documented) - set(defined) == set(), "documented macros that do not exist"
    assert {name: folder for name, folder in documented.items() if defined[name] != folder} == {}


def test_docs_document_every_family_of_the_segment_registry() -> None:
    readme = (PROJECT_DIR / "docs" / "segments.md").read_text()
    families = registry.load_registry()
    expected = registry.render_markdown(families, registry.load_project_vars())
    assert readme_section(readme, registry.SECTION) == expected, (
        "docs/segments.md registry section is stale: run `make registry-docs`"
    )
    for family in families:
        assert f"`{family['column']}`" in readme, family["family"]


def test_registry_rules_render_with_var_defaults() -> None:
    variables = {"vip_min_spend_percentile": 0.97}
    rule = "spend_percentile >= {{ var('vip_min_spend_percentile') }}\n and x"
    assert registry.render_rule(rule, variables) == "spend_percentile >= 0.97 and x"


def test_doc_blocks_define_every_family_and_customer_segments_quotes_them() -> None:
    families = registry.load_registry()
    expected = registry.render_doc_blocks(families, registry.load_project_vars())
    assert (PROJECT_DIR / registry.DOC_BLOCKS_FILE).read_text() == expected, (
        f"{registry.DOC_BLOCKS_FILE.name} is stale: run `make registry-docs`"
    )
    models = yaml.safe_load(
        (PROJECT_DIR / "models" / "marts" / "segments" / "_segments__models.yml").read_text()
    )["models"]
    [customer_segments] = [model for model in models if model["name"] == "customer_segments"]
    descriptions = {
        column["name"]: column["description"] for column in customer_segments["columns"]
    }
    for family in families:
        block = registry.doc_block_name(family)
        assert f"{{% docs {block} %}}" in expected
        assert descriptions[family["column"]] == f"{{{{ doc('{block}') }}}}", family["family"]


def test_public_marts_change_only_compatibly_or_with_a_new_version() -> None:
    recorded = json.loads((PROJECT_DIR / interface.INTERFACE_FILE).read_text())
    current = interface.read_interface()
    assert interface.incompatible_changes(recorded, current) == [], (
        "a public mart changed incompatibly: add a model version (dbt versions:), or after a "
        "deliberate change run `make public-interface`"
    )
    for name, model in current.items():
        assert model["columns"] and all(model["columns"].values()), f"{name}: untyped column"


def test_incompatible_changes_are_the_removed_and_retyped_columns_of_an_unversioned_mart() -> None:
    recorded = {
        "dim_customers": {"version": None, "columns": {"customer_id": "varchar", "age": "bigint"}},
        "fct_orders": {"version": 1, "columns": {"order_id": "varchar"}},
        "gone": {"version": None, "columns": {"x": "date"}},
    }
    current = {
        "dim_customers": {
            "version": None,
            "columns": {"customer_id": "varchar", "age": "integer", "new_column": "date"},
        },
        "fct_orders": {"version": 2, "columns": {"order_key": "bigint"}},
        "segment_summary": {"version": None, "columns": {"segment": "varchar"}},
    }
    assert interface.incompatible_changes(recorded, current) == [
        "dim_customers.age: type bigint -> integer without a new version",
        "gone: public model removed (or no longer public)",
        "segment_summary: new public model not recorded in public_interface.json",
    ]
    del current["dim_customers"]["columns"]["customer_id"]
    assert "dim_customers.customer_id: column removed without a new version" in (
        interface.incompatible_changes(recorded, current)
    )
