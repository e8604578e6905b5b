{#- Parsers for the raw contract's value types. Each returns null for a value that does
    not parse, so the caller can quarantine the row with reason invalid_value. -#}

{% macro parse_decimal(expression) -%}
    {{ dbt.safe_cast(segment_warehouse.clean_text(expression), segment_warehouse.type_money()) }}
{%- endmacro %}

{#- Whole numbers only: '3.5' is invalid rather than rounded. -#}
{% macro parse_integer(expression) -%}
    case
        when {{ segment_warehouse.regex_like(segment_warehouse.clean_text(expression), '^[+-]?[0-9]{1,9}$') }}
            then cast({{ segment_warehouse.clean_text(expression) }} as {{ dbt.type_int() }})
    end
{%- endmacro %}

{% macro parse_boolean(expression) -%}
    case
        when lower({{ segment_warehouse.clean_text(expression) }}) in ('true', 't', 'yes', 'y', '1') then true
        when lower({{ segment_warehouse.clean_text(expression) }}) in ('false', 'f', 'no', 'n', '0') then false
    end
{%- endmacro %}

{#- A calendar date as written: a timestamp's date part is taken without any time-zone
    shift, so a birth date never moves by a day. -#}
{% macro parse_date(expression) -%}
    coalesce(
        {{ dbt.safe_cast(segment_warehouse.clean_text(expression), 'date') }},
        cast({{ dbt.safe_cast(segment_warehouse.clean_text(expression), dbt.type_timestamp()) }} as date)
    )
{%- endmacro %}

{% macro parse_timestamp(expression) -%}
    {{ segment_warehouse.to_utc_timestamp(segment_warehouse.clean_text(expression)) }}
{%- endmacro %}
