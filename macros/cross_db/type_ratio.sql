{#- Double-precision floating point for shares, rates and averages; dbt.type_float()
    is single precision on some engines. -#}
{% macro type_ratio() -%}
    {{ return(adapter.dispatch('type_ratio', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__type_ratio() -%}
    double
{%- endmacro %}

{% macro postgres__type_ratio() -%}
    double precision
{%- endmacro %}
