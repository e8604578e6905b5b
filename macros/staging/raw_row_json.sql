{#- The raw row of a contract source as JSON text, built from the source's declared
    columns so it follows the contract without being listed by hand. (Unit tests see no
    source nodes in the graph; there the raw row is null.) -#}
{% macro raw_row_json(source_name, table_name, relation_alias=none) -%}
    {%- set column_names = segment_warehouse.contract_columns(source_name, table_name) -%}
    {%- if column_names | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {{ segment_warehouse.row_to_json(column_names, relation_alias) }}
    {%- endif -%}
{%- endmacro %}

{% macro contract_columns(source_name, table_name) -%}
    {%- set column_names = [] -%}
    {%- if execute -%}
        {%- for node in graph.get('sources', {}).values() -%}
            {%- if node.package_name == project_name and node.source_name == source_name and node.name == table_name -%}
                {%- for column in node.columns.values() -%}
                    {%- do column_names.append(column.name) -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(column_names) }}
{%- endmacro %}
