{#- Staging written once: the per-column parsing and checks of a base model come from the
    raw data contract (models/staging/*/_*__sources.yml: meta.type, meta.required), so a
    base model lists only what is particular to its table. -#}

{#- What each contract type is called in a check's detail text. -#}
{% macro contract_type_descriptions() -%}
    {{ return({
        'timestamp': 'a timestamp',
        'date': 'a date',
        'decimal': 'a decimal number',
        'integer': 'a whole number',
        'boolean': 'a boolean',
    }) }}
{%- endmacro %}

{#- The contract's columns of a source table, in declaration order: dicts with name, type
    and required. Read from the graph; unit tests have no sources in their graph, so there
    they come from raw._contract_columns, which load_raw_sources writes from the graph at
    the start of every run. Empty at parse time. -#}
{% macro contract_column_specs(source_name, table_name) -%}
    {%- set specs = [] -%}
    {%- if execute -%}
        {%- for node in graph.get('sources', {}).values()
            if node.package_name == project_name and node.source_name == source_name and node.name == table_name -%}
            {%- for column in node.columns.values() -%}
                {%- do specs.append({
                    'name': column.name,
                    'type': column.meta.get('type', 'text'),
                    'required': column.meta.get('required', false),
                }) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if specs | length == 0 -%}
            {%- set recorded = run_query(
                'select column_name, column_type, is_required from ' ~ var('raw.schema') ~ '._contract_columns'
                ~ " where source_name = '" ~ source_name ~ "' and table_name = '" ~ table_name ~ "'"
                ~ ' order by column_position'
            ) -%}
            {%- for row in recorded.rows -%}
                {%- do specs.append({'name': row[0], 'type': row[1], 'required': row[2]}) -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endif -%}
    {{ return(specs) }}
{%- endmacro %}

{#- on-run-start (load_raw_sources): raw._contract_columns, the contract of every raw table
    as a table, for contract_column_specs in unit tests. -#}
{% macro record_contract_columns(raw_schema, contract_sources) -%}
    {%- set rows = [] -%}
    {%- for node in contract_sources -%}
        {%- for column in node.columns.values() -%}
            {%- do rows.append(
                'select ' ~ segment_warehouse.text_literal(node.source_name) ~ ' as source_name, '
                ~ segment_warehouse.text_literal(node.name) ~ ' as table_name, '
                ~ loop.index ~ ' as column_position, '
                ~ segment_warehouse.text_literal(column.name) ~ ' as column_name, '
                ~ segment_warehouse.text_literal(column.meta.get('type', 'text')) ~ ' as column_type, '
                ~ (column.meta.get('required', false) | lower) ~ ' as is_required'
            ) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- do run_query(
        'create or replace table ' ~ raw_schema ~ '._contract_columns as ' ~ rows | join(' union all ')
    ) -%}
{%- endmacro %}

{#- The parsed select list of a base model: each contract column cleaned (text) or, for a
    typed column, `<column>_text` (the cleaned text, quoted by the checks) and `<column>`
    (the parsed value, null when it does not parse). Columns in `except` are left to the
    model (a renamed or normalised column). -#}
{% macro contract_parsed_columns(source_name, table_name, read_options=none, except=[]) -%}
    {%- set parsers = {
        'timestamp': segment_warehouse.parse_timestamp,
        'date': segment_warehouse.parse_date,
        'decimal': segment_warehouse.parse_decimal,
    } -%}
    {%- set selected = [] -%}
    {%- for column in segment_warehouse.contract_column_specs(source_name, table_name) if column.name not in except -%}
        {%- if column.type == 'text' -%}
            {%- do selected.append(segment_warehouse.clean_text(column.name) ~ ' as ' ~ column.name) -%}
        {%- else -%}
            {%- do selected.append(segment_warehouse.clean_text(column.name) ~ ' as ' ~ column.name ~ '_text') -%}
            {%- if column.type == 'integer' -%}
                {%- set parsed = segment_warehouse.parse_integer(column.name) -%}
            {%- elif column.type == 'boolean' -%}
                {%- set parsed = segment_warehouse.parse_boolean(column.name) -%}
            {%- else -%}
                {%- set parsed = parsers[column.type](column.name, read_options) -%}
            {%- endif -%}
            {%- do selected.append(parsed ~ ' as ' ~ column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ selected | join(',\n        ') }}
{%- endmacro %}

{#- A missing_value check for every required contract column, in contract order. -#}
{% macro contract_missing_checks(source_name, table_name) -%}
    {%- set checks = [] -%}
    {%- for column in segment_warehouse.contract_column_specs(source_name, table_name) if column.required -%}
        {%- do checks.append(segment_warehouse.check_missing(column.name, parsed=column.type != 'text')) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}

{#- An invalid_value check for every typed contract column, in contract order or in the
    order of `columns` when given (the first check that fires names the column). -#}
{% macro contract_parse_checks(source_name, table_name, columns=none) -%}
    {%- set descriptions = segment_warehouse.contract_type_descriptions() -%}
    {%- set types = {} -%}
    {%- for column in segment_warehouse.contract_column_specs(source_name, table_name) if column.type != 'text' -%}
        {%- do types.update({column.name: column.type}) -%}
    {%- endfor -%}
    {%- set checks = [] -%}
    {%- for name in (columns if columns is not none else types.keys() | list) if name in types -%}
        {%- do checks.append(segment_warehouse.check_parses(name, descriptions[types[name]])) -%}
    {%- endfor -%}
    {{ return(checks) }}
{%- endmacro %}
