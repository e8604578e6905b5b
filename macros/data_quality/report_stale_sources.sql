{#- Post-hook of int_source_freshness_checked: stops the run when a delivered event source
    has no valid event by the end of as_of_date, or is stale, naming the source, its file,
    its latest event and the limit. -#}
{% macro report_stale_sources() %}
    {%- if execute -%}
        {%- set failures = run_query(
            "select source_name || '.' || table_name || ' (' || raw_location || ') '"
            ~ " || case when freshness_status = 'no rows' then 'has no valid event at or before as_of_date '"
            ~ " || cast(as_of_date as " ~ dbt.type_string() ~ ") || coalesce(' (its first valid event: '"
            ~ " || cast(first_event_at as " ~ dbt.type_string() ~ ") || ' UTC)', ' (the table has no valid row)')"
            ~ " else 'is stale: its latest event, ' || cast(latest_event_at as " ~ dbt.type_string() ~ ")"
            ~ " || ' UTC, is ' || cast(age_days as " ~ dbt.type_string() ~ ") || ' days before as_of_date '"
            ~ " || cast(as_of_date as " ~ dbt.type_string() ~ ") || ' (at most ' || cast(max_age_days as "
            ~ dbt.type_string() ~ ") || ' allowed, var quality.source_max_age_days)' end"
            ~ " from " ~ this ~ " where freshness_status in ('stale', 'no rows') order by source_name, table_name"
        ) -%}
        {%- if failures.rows | length > 0 -%}
            {{ exceptions.raise_compiler_error(
                'Source freshness failed, so nothing built on these sources is published. '
                ~ failures.columns[0].values() | join(' | ')
            ) }}
        {%- endif -%}
    {%- endif -%}
    {{ return('select 1 as stale_sources_reported') }}
{% endmacro %}
