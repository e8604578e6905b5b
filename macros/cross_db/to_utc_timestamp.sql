{#- Parses text into a UTC timestamp without time zone. Text ending in a UTC offset (Z,
    +01:00, -0500) or a time-zone name (Europe/Berlin, UTC, CET) is converted from it;
    text without one is read in `timezone` (default var staging.source_timezone), with
    `timestamp_format` (strftime) when given, or as ISO 8601. With `date_format`, a date
    alone in that format also parses, as midnight. Anything that does not parse, an
    unknown zone name included, becomes null. -#}
{% macro to_utc_timestamp(expression, timezone=none, timestamp_format=none, date_format=none) -%}
    {{ return(adapter.dispatch('to_utc_timestamp', 'segment_warehouse')(
        expression, timezone or var('staging.source_timezone'), timestamp_format, date_format
    )) }}
{%- endmacro %}

{#- Text ending in an offset, or in a zone name after the time. -#}
{% macro offset_suffix_pattern() -%}
    [0-9]:[0-9]{2}(:[0-9]{2}([.][0-9]+)?)? ?(Z|[+-][0-9]{2}(:?[0-9]{2})?)$
{%- endmacro %}

{% macro zone_name_suffix_pattern() -%}
    [0-9] +[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$
{%- endmacro %}

{% macro default__to_utc_timestamp(expression, timezone, timestamp_format, date_format) -%}
    {%- if timezone | upper == 'UTC' and not timestamp_format and not date_format -%}
        {{ dbt.safe_cast(expression, api.Column.translate_type('timestamp')) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "time zones other than UTC and timestamp formats are not implemented for adapter " ~ adapter.type()
        ) }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__to_utc_timestamp(expression, timezone, timestamp_format, date_format) -%}
    {%- set naive_parsers = [] -%}
    {%- if timestamp_format -%}
        {%- do naive_parsers.append("try_strptime(" ~ expression ~ ", '" ~ timestamp_format | replace("'", "''") ~ "')") -%}
    {%- endif -%}
    {%- if date_format -%}
        {%- do naive_parsers.append("try_strptime(" ~ expression ~ ", '" ~ date_format | replace("'", "''") ~ "')") -%}
    {%- endif -%}
    {%- if not timestamp_format -%}
        {%- do naive_parsers.append('try_cast(' ~ expression ~ ' as timestamp)') -%}
    {%- endif -%}
    {%- set naive = naive_parsers[0] if naive_parsers | length == 1 else 'coalesce(' ~ naive_parsers | join(', ') ~ ')' -%}
    case
        when
            {{ segment_warehouse.regex_like(expression, segment_warehouse.offset_suffix_pattern()) }}
            or {{ segment_warehouse.regex_like(expression, segment_warehouse.zone_name_suffix_pattern()) }}
            then timezone('UTC', try_cast({{ expression }} as timestamptz))
        {%- if timezone | upper == 'UTC' %}
        else {{ naive }}
        {%- else %}
        else timezone('UTC', timezone('{{ timezone }}', {{ naive }}))
        {%- endif %}
    end
{%- endmacro %}

{% macro spark__to_utc_timestamp(expression, timezone, timestamp_format, date_format) -%}
    {%- if timestamp_format or date_format -%}
        {{ exceptions.raise_compiler_error(
            "timestamp_format and date_format in var raw.read_options are not implemented for Spark; "
            ~ "deliver ISO 8601 timestamps"
        ) }}
    {%- endif -%}
    case
        when
            {{ segment_warehouse.regex_like(expression, segment_warehouse.offset_suffix_pattern()) }}
            or {{ segment_warehouse.regex_like(expression, segment_warehouse.zone_name_suffix_pattern()) }}
            then to_utc_timestamp(try_cast({{ expression }} as timestamp), current_timezone())
        else to_utc_timestamp(try_cast({{ expression }} as timestamp), '{{ timezone }}')
    end
{%- endmacro %}


{#- A date in a strftime format; null when the text is not in it. -#}
{% macro parse_formatted_date(expression, date_format) -%}
    {{ return(adapter.dispatch('parse_formatted_date', 'segment_warehouse')(expression, date_format)) }}
{%- endmacro %}

{% macro default__parse_formatted_date(expression, date_format) -%}
    {{ exceptions.raise_compiler_error("date_format in var raw.read_options is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro duckdb__parse_formatted_date(expression, date_format) -%}
    cast(try_strptime({{ expression }}, '{{ date_format | replace("'", "''") }}') as date)
{%- endmacro %}
