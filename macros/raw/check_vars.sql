{#- Fails the run before anything is read when a var holds a value no build could use,
    naming the var and the value: a wrong threshold would otherwise quarantine every row
    (a negative max_order_amount) or switch a gate off without anyone noticing. -#}
{% macro check_vars() %}
    {%- set problems = [] -%}
    {%- set max_order_amount = var('money.max_order_amount') -%}
    {%- if max_order_amount is not number or max_order_amount <= 0 -%}
        {%- do problems.append('money.max_order_amount must be a positive number; got ' ~ max_order_amount) -%}
    {%- endif -%}
    {%- if not modules.re.fullmatch('[0-9]{4}-[0-9]{2}-[0-9]{2}', var('staging.min_valid_date') | string) -%}
        {%- do problems.append('staging.min_valid_date must be a date (YYYY-MM-DD); got ' ~ var('staging.min_valid_date')) -%}
    {%- endif -%}
    {%- if var('staging.source_timezone') not in modules.pytz.all_timezones -%}
        {%- do problems.append('staging.source_timezone must be an IANA time zone name such as Europe/Berlin or UTC; got ' ~ var('staging.source_timezone')) -%}
    {%- endif -%}
    {%- set lookback = var('staging.lookback_days') -%}
    {%- if lookback is not number or lookback < 0 -%}
        {%- do problems.append('staging.lookback_days must be 0 or more; got ' ~ lookback) -%}
    {%- endif -%}
    {%- set gates = var('quality.gates', {}) or {} -%}
    {%- set known_gate_keys = segment_warehouse.data_quality_gate_defaults().keys() | list -%}
    {%- set gate_scopes = [('quality.gates', gates)] -%}
    {%- for table_name, table_settings in (gates.get('tables') or {}).items() -%}
        {%- do gate_scopes.append(('quality.gates.tables.' ~ table_name, table_settings or {})) -%}
    {%- endfor -%}
    {%- for scope, settings in gate_scopes -%}
        {%- for key, value in settings.items() if key != 'tables' or scope != 'quality.gates' -%}
            {%- if key not in known_gate_keys -%}
                {%- do problems.append(scope ~ ' has an unknown key ' ~ key ~ '; known keys: ' ~ known_gate_keys | join(', ')) -%}
            {%- elif value is not number or value < 0 or value > 1 -%}
                {%- do problems.append(scope ~ '.' ~ key ~ ' must be a share between 0 and 1; got ' ~ value) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if problems -%}
        {{ exceptions.raise_compiler_error('Invalid vars: ' ~ problems | join('; ')) }}
    {%- endif -%}
{% endmacro %}
