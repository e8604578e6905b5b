{#- Post-hook of int_raw_tables_gated: logs every warning of this run's gates and, when a
    gate failed, stops the run with all failed gates' messages (source, file, quarantined
    share, top reasons with an example row). Models built on the sources are then skipped,
    and the scheduled job publishes nothing. -#}
{% macro report_data_quality_gates() %}
    {%- if execute -%}
        {%- set verdicts = run_query(
            "select gate_status, gate_message from " ~ this
            ~ " where checked_at = cast('" ~ run_started_at.strftime('%Y-%m-%d %H:%M:%S') ~ "' as "
            ~ dbt.type_timestamp() ~ ") and gate_status <> 'pass' order by gate_status, is_required desc, quarantined_share desc, source_name, table_name"
        ) -%}
        {%- set errors = [] -%}
        {%- for verdict in verdicts.rows -%}
            {%- if verdict[0] == 'error' -%}
                {%- do errors.append(verdict[1]) -%}
            {%- else -%}
                {%- do log('Data-quality warning: ' ~ verdict[1], info=true) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if errors -%}
            {{ exceptions.raise_compiler_error(
                'Data-quality gate failed, so nothing built on these sources is published. '
                ~ errors | join(' | ')
                ~ '. Inspect marts.quarantined_rows; thresholds: var quality.gates.'
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return('select 1 as data_quality_gates_reported') }}
{% endmacro %}
