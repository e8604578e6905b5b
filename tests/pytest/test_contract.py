"""The raw data contract: one definition, documented consistently."""

from __future__ import annotations

from segment_warehouse.contract import PROJECT_DIR, load_contract, readme_section, render_markdown


def test_readme_documents_the_contract_in_the_sources_yaml() -> None:
    readme = (PROJECT_DIR / "README.md").read_text()
    assert readme_section(readme) == render_markdown(load_contract()), (
        "README contract section is stale: run `make contract-docs`"
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
