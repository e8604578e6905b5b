{#- Converts an amount with a rate from stg_reference__currency_rates, rounded to cents. -#}
{% macro to_reporting_currency(amount, rate) -%}
    cast(round({{ amount }} * {{ rate }}, 2) as {{ segment_warehouse.type_money() }})
{%- endmacro %}
