{#- Money and other exact decimals: 18 digits fit a 64-bit integer on every engine. -#}
{% macro type_money() -%}
    decimal(18, 4)
{%- endmacro %}
