{#- The incremental strategy of the history models, which replace rows by their unique
    key: delete+insert on DuckDB, merge elsewhere (Spark with Delta tables, Snowflake,
    BigQuery). -#}
{% macro replace_by_key_strategy() -%}
    {{ return(adapter.dispatch('replace_by_key_strategy', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__replace_by_key_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__replace_by_key_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
