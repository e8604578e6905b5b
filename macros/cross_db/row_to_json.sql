{#- Serialises the named columns of a row into one JSON text value, so a quarantined row
    keeps every raw value it arrived with. relation_alias qualifies the columns. -#}
{% macro row_to_json(columns, relation_alias=none) -%}
    {{ return(adapter.dispatch('row_to_json', 'segment_warehouse')(columns, relation_alias)) }}
{%- endmacro %}

{% macro default__row_to_json(columns, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    concat(
        '{',
        {%- for column in columns %}
        '"{{ column }}":', coalesce(concat('"', replace({{ prefix }}{{ column }}, '"', '\\"'), '"'), 'null'){% if not loop.last %}, ','{% endif %},
        {%- endfor %}
        '}'
    )
{%- endmacro %}

{% macro duckdb__row_to_json(columns, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    cast(to_json(struct_pack(
        {%- for column in columns %}
        "{{ column }}" := {{ prefix }}{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )) as varchar)
{%- endmacro %}

{% macro spark__row_to_json(columns, relation_alias=none) -%}
    {%- set prefix = relation_alias ~ '.' if relation_alias else '' -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ prefix }}{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}
