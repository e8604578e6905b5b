{#- Parsers for the raw contract's value types. Each returns null for a value that does
    not parse, so the caller can quarantine the row with reason invalid_value. Values are
    read strictly: nothing is guessed. `read_options` is the table's
    raw_read_options(<table>) (separators, formats, time zone); none reads ISO 8601 and a
    decimal point. -#}

{#- Plain decimal notation only: an optional sign, digits and one decimal separator
    ('.' unless the table's decimal_separator is ','), with the table's thousands
    separator between groups of three digits when one is configured. '1_000', '1e3' and
    '12,50' (with a decimal point) do not parse. -#}
{% macro parse_decimal(expression, read_options=none) -%}
    {%- set options = read_options or {} -%}
    {%- set decimal_separator = options.get('decimal_separator') or '.' -%}
    {%- set thousands_separator = options.get('thousands_separator') -%}
    {%- set text = segment_warehouse.clean_text(expression) -%}
    {%- set decimal_pattern = '[' ~ decimal_separator ~ '][0-9]+' -%}
    {%- if thousands_separator -%}
        {%- set thousands_pattern = '[' ~ (thousands_separator | replace("'", "''")) ~ ']' -%}
        {%- set pattern = '^[+-]?([0-9]+|[0-9]{1,3}(' ~ thousands_pattern ~ '[0-9]{3})+)(' ~ decimal_pattern ~ ')?$' -%}
    {%- else -%}
        {%- set pattern = '^[+-]?[0-9]+(' ~ decimal_pattern ~ ')?$' -%}
    {%- endif -%}
    {%- set normalised = text -%}
    {%- if thousands_separator -%}
        {%- set normalised = 'replace(' ~ normalised ~ ", '" ~ (thousands_separator | replace("'", "''")) ~ "', '')" -%}
    {%- endif -%}
    {%- if decimal_separator != '.' -%}
        {%- set normalised = 'replace(' ~ normalised ~ ", '" ~ decimal_separator ~ "', '.')" -%}
    {%- endif -%}
    case
        when {{ segment_warehouse.regex_like(text, pattern) }}
            then {{ dbt.safe_cast(normalised, segment_warehouse.type_money()) }}
    end
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
    shift, so a birth date never moves by a day. With the table's date_format, only that
    format is read. -#}
{% macro parse_date(expression, read_options=none) -%}
    {%- set date_format = (read_options or {}).get('date_format') -%}
    {%- if date_format -%}
        {{ segment_warehouse.parse_formatted_date(segment_warehouse.clean_text(expression), date_format) }}
    {%- else -%}
        coalesce(
            {{ dbt.safe_cast(segment_warehouse.clean_text(expression), 'date') }},
            cast({{ dbt.safe_cast(segment_warehouse.clean_text(expression), dbt.type_timestamp()) }} as date)
        )
    {%- endif -%}
{%- endmacro %}

{#- A UTC timestamp. ISO 8601 text with a UTC offset or an IANA zone name is converted
    from it; text without either is read in the table's timezone (var staging.source_timezone by
    default). With the table's timestamp_format, text in that format is read instead (a
    date alone in date_format, when one is set, counts as midnight). -#}
{% macro parse_timestamp(expression, read_options=none) -%}
    {%- set options = read_options or {} -%}
    {{ segment_warehouse.to_utc_timestamp(
        segment_warehouse.clean_text(expression),
        timezone=options.get('timezone'),
        timestamp_format=options.get('timestamp_format'),
        date_format=options.get('date_format'),
    ) }}
{%- endmacro %}
