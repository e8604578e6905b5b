{#-
    How one raw table is read: var raw.read_options.defaults, overridden by
    var raw.read_options.tables.<table>, over the built-in defaults below. Unknown keys
    and unknown tables fail the run with a message naming them, so a typo never goes
    unnoticed. See docs/data-contract.md, "When input is bad", for each key.
-#}
{% macro raw_read_option_defaults() %}
    {{ return({
        'delimiter': ',',
        'quote': '"',
        'escape': none,
        'encoding': 'utf-8',
        'max_line_bytes': 2000000,
        'decimal_separator': '.',
        'thousands_separator': none,
        'date_format': none,
        'timestamp_format': none,
        'timezone': none,
        'columns': {},
    }) }}
{% endmacro %}


{% macro raw_read_options(table_name) %}
    {%- set configured = var('raw.read_options', {}) or {} -%}
    {%- set merged = segment_warehouse.raw_read_option_defaults() -%}
    {%- do merged.update({'timezone': var('staging.source_timezone')}) -%}
    {%- do merged.update(segment_warehouse.checked_read_options(configured.get('defaults') or {}, 'defaults')) -%}
    {%- set tables = configured.get('tables') or {} -%}
    {%- do merged.update(segment_warehouse.checked_read_options(tables.get(table_name) or {}, 'tables.' ~ table_name)) -%}
    {%- if merged.escape is none -%}
        {%- do merged.update({'escape': merged.quote}) -%}
    {%- endif -%}
    {{ return(merged) }}
{% endmacro %}


{% macro checked_read_options(options, where) %}
    {%- set known = segment_warehouse.raw_read_option_defaults().keys() | list -%}
    {%- for key in options -%}
        {%- if key not in known -%}
            {{ exceptions.raise_compiler_error(
                "var raw.read_options." ~ where ~ " has an unknown key '" ~ key ~ "'; known keys: "
                ~ known | join(', ')
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- if options.get('decimal_separator') is not none and options.get('decimal_separator') not in ['.', ','] -%}
        {{ exceptions.raise_compiler_error(
            "var raw.read_options." ~ where ~ ".decimal_separator must be '.' or ','; got '"
            ~ options.decimal_separator ~ "'"
        ) }}
    {%- endif -%}
    {%- if options.get('thousands_separator') is not none
        and options.get('thousands_separator') == options.get('decimal_separator', '.') -%}
        {{ exceptions.raise_compiler_error(
            "var raw.read_options." ~ where ~ ": thousands_separator and decimal_separator are both '"
            ~ options.thousands_separator ~ "'"
        ) }}
    {%- endif -%}
    {%- if options.get('timezone') and options.timezone not in modules.pytz.all_timezones -%}
        {{ exceptions.raise_compiler_error(
            "var raw.read_options." ~ where ~ ".timezone '" ~ options.timezone
            ~ "' is not an IANA time zone name such as Europe/Berlin or UTC"
        ) }}
    {%- endif -%}
    {%- if 'delimiter' in options and (options.delimiter is none or options.delimiter | length != 1) -%}
        {{ exceptions.raise_compiler_error(
            "var raw.read_options." ~ where ~ ".delimiter must be one character; got '" ~ options.delimiter ~ "'"
        ) }}
    {%- endif -%}
    {{ return(options) }}
{% endmacro %}


{#- Fails the run when var raw.read_options names a table that is not a raw table. -#}
{% macro check_read_option_tables(table_names) %}
    {%- set configured = var('raw.read_options', {}) or {} -%}
    {%- for key in configured -%}
        {%- if key not in ['defaults', 'tables'] -%}
            {{ exceptions.raise_compiler_error(
                "var raw.read_options has an unknown key '" ~ key ~ "'; use defaults and tables"
            ) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for table_name in (configured.get('tables') or {}) -%}
        {%- if table_name not in table_names -%}
            {{ exceptions.raise_compiler_error(
                "var raw.read_options.tables names '" ~ table_name ~ "', which is not a raw table; raw tables: "
                ~ table_names | join(', ')
            ) }}
        {%- endif -%}
    {%- endfor -%}
{% endmacro %}
