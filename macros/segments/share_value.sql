{#- A share (0-1) rounded to three decimals as an exact decimal, so rules and reasons
    see the same value (e.g. 0.991, not 0.99099999). Null when the denominator is not
    positive. -#}
{% macro share_value(numerator, denominator) -%}
    case
        when {{ denominator }} > 0
            then cast(round(cast({{ numerator }} as {{ type_ratio() }}) / {{ denominator }}, 3) as decimal(7, 3))
    end
{%- endmacro %}
