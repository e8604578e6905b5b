{#- dbt's default safe_cast is a plain cast on DuckDB, which fails the query on the
    first bad value; staging must turn bad values into nulls so they can be quarantined. -#}
{% macro duckdb__safe_cast(field, type) -%}
    try_cast({{ field }} as {{ type }})
{%- endmacro %}
