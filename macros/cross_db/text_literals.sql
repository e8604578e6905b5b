{#- A comma-separated list of SQL string literals, e.g. for an `in (...)` list. -#}
{% macro text_literals(values) -%}
    {%- for value in values -%}
        {{ text_literal(value) }}{% if not loop.last %}, {% endif %}
    {%- endfor -%}
{%- endmacro %}
