{#- One setting of the data-quality gates for a raw table: var
    quality.gates.tables.<table>.<key>, else the built-in setting of that table, else
    quality.gates.<key>, else the built-in default. Settings given in --vars replace only
    the keys they name. -#}
{% macro data_quality_gate_defaults() %}
    {{ return({
        'quarantine_warn_share': 0.01,
        'quarantine_error_share': 0.10,
        'volume_drop_warn_share': 0.5,
    }) }}
{% endmacro %}

{#- Erasure requests are few: one bad request must not stop the run that erases the others
    (it is quarantined, listed and warned about). -#}
{% macro data_quality_gate_table_defaults() %}
    {{ return({
        'erasure_requests': {'quarantine_error_share': 1.0},
    }) }}
{% endmacro %}

{% macro data_quality_gate_setting(table_name, key) %}
    {%- set configured = var('quality.gates', {}) or {} -%}
    {%- set table_settings = (configured.get('tables') or {}).get(table_name) or {} -%}
    {%- if key in table_settings -%}
        {{ return(table_settings[key]) }}
    {%- elif key in segment_warehouse.data_quality_gate_table_defaults().get(table_name, {}) -%}
        {{ return(segment_warehouse.data_quality_gate_table_defaults()[table_name][key]) }}
    {%- elif key in configured -%}
        {{ return(configured[key]) }}
    {%- endif -%}
    {{ return(segment_warehouse.data_quality_gate_defaults()[key]) }}
{% endmacro %}
