{#- ISO day of the week of a date or timestamp: 1 = Monday ... 7 = Sunday. Engines
    number weekdays differently, so each gets its own spelling. -#}
{% macro iso_day_of_week(value) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'segment_warehouse')(value)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(value) -%}
    extract(isodow from {{ value }})
{%- endmacro %}

{% macro spark__iso_day_of_week(value) -%}
    extract(dayofweek_iso from {{ value }})
{%- endmacro %}
