{#- SQL expression: a 64-bit integer with only bit `position` set (0 to 62), for sets
    kept as bit masks (aggregated with bit_or, which DuckDB and Spark both have). -#}
{% macro bit_flag(position) -%}
    {{ return(adapter.dispatch('bit_flag', 'segment_warehouse')(position)) }}
{%- endmacro %}

{% macro default__bit_flag(position) -%}
    shiftleft(cast(1 as {{ dbt.type_bigint() }}), {{ position }})
{%- endmacro %}

{% macro duckdb__bit_flag(position) -%}
    (cast(1 as {{ dbt.type_bigint() }}) << ({{ position }}))
{%- endmacro %}
