{#- Trimmed text, with empty strings treated as missing. -#}
{% macro clean_text(expression) -%}
    nullif(trim({{ expression }}), '')
{%- endmacro %}
