{#- A SQL string literal for any text, with single quotes escaped the engine's way
    (dbt.string_literal does not escape them). -#}
{% macro text_literal(value) -%}
    '{{ dbt.escape_single_quotes(value | string) }}'
{%- endmacro %}
