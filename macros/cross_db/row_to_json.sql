{#- Serialises the named columns of a row into one text value, so a quarantined row
    keeps every raw value it arrived with. -#}
{% macro row_to_json(columns) -%}
    {{ return(adapter.dispatch('row_to_json', 'segment_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__row_to_json(columns) -%}
    concat(
        '{',
        {%- for column in columns %}
        '"{{ column }}":', coalesce(concat('"', replace({{ column }}, '"', '\\"'), '"'), 'null'){% if not loop.last %}, ','{% endif %},
        {%- endfor %}
        '}'
    )
{%- endmacro %}

{% macro duckdb__row_to_json(columns) -%}
    cast(to_json(struct_pack(
        {%- for column in columns %}
        "{{ column }}" := {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    )) as varchar)
{%- endmacro %}

{% macro spark__row_to_json(columns) -%}
    to_json(named_struct(
        {%- for column in columns %}
        '{{ column }}', {{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ))
{%- endmacro %}
