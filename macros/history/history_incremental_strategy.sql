{#- The incremental strategy of the history models, which replace rows by their unique
    key: delete+insert on DuckDB, merge elsewhere (Spark with Delta tables, Snowflake,
    BigQuery). -#}
{% macro history_incremental_strategy() -%}
    {{ return(adapter.dispatch('history_incremental_strategy', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__history_incremental_strategy() -%}
    {{ return('merge') }}
{%- endmacro %}

{% macro duckdb__history_incremental_strategy() -%}
    {{ return('delete+insert') }}
{%- endmacro %}
