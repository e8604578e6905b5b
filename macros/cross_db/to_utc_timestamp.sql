{#- Parses ISO 8601 text into a UTC timestamp without time zone. Text carrying a UTC
    offset (Z, +01:00, -0500) is converted from that offset; text without one is read
    in var('source_timezone'). Anything that does not parse becomes null. -#}
{% macro to_utc_timestamp(expression) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__to_utc_timestamp(expression) -%}
    {%- set source_timezone = var('source_timezone') -%}
    {%- if source_timezone | upper == 'UTC' -%}
        {{ dbt.safe_cast(expression, api.Column.translate_type('timestamp')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "source_timezone other than UTC is not implemented for adapter " ~ adapter.type()
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expression) -%}
    {%- set source_timezone = var('source_timezone') -%}
    case
        when {{ segment_warehouse.regex_like(expression, '[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
            then timezone('UTC', try_cast({{ expression }} as timestamptz))
        {%- if source_timezone | upper == 'UTC' %}
        else try_cast({{ expression }} as timestamp)
        {%- else %}
        else timezone('UTC', timezone('{{ source_timezone }}', try_cast({{ expression }} as timestamp)))
        {%- endif %}
    end
{%- endmacro %}

{% macro spark__to_utc_timestamp(expression) -%}
    {%- set source_timezone = var('source_timezone') -%}
    case
        when {{ segment_warehouse.regex_like(expression, '[0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$') }}
            then to_utc_timestamp(try_cast({{ expression }} as timestamp), current_timezone())
        else to_utc_timestamp(try_cast({{ expression }} as timestamp), '{{ source_timezone }}')
    end
{%- endmacro %}
