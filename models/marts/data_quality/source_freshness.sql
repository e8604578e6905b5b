{#- How fresh the event sources are on as_of_date: per table, the latest valid event at or
    before the end of as_of_date and its age in days. With var source_max_age_days set (the
    scheduled job sets it), a table with rows whose latest event is older is stale, and an
    error-severity test fails the run, so nothing is published from data that stopped
    arriving. Tables without rows (absent optional sources) are not judged. -#}
{%- set max_age_days = var('source_max_age_days', none) -%}
{%- set event_tables = [
    ('shop', 'orders', 'stg_shop__orders', 'ordered_at'),
    ('pos', 'store_transactions', 'stg_pos__store_transactions', 'transacted_at'),
    ('web', 'web_sessions', 'stg_web__sessions', 'started_at'),
] -%}

with

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

{% for source_name, table_name, model_name, column in event_tables -%}
    {{ table_name }}_latest as (
        select
            {{ text_literal(source_name) }} as source_name,
            {{ text_literal(table_name) }} as table_name,
            count(events.{{ column }}) as row_count,
            max(events.{{ column }}) as latest_event_at
        from {{ ref(model_name) }} as events
        cross join as_of
        where events.{{ column }} < as_of.as_of_end_at
    ),

{% endfor -%}
latest as (
    {%- for source_name, table_name, model_name, column in event_tables %}
        select * from {{ table_name }}_latest
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        latest.source_name,
        latest.table_name,
        cast(latest.row_count as {{ dbt.type_bigint() }}) as row_count,
        latest.latest_event_at,
        cast(
            {{ dbt.datediff('cast(latest.latest_event_at as date)', 'as_of.as_of_date', 'day') }}
            as {{ dbt.type_int() }}
        ) as age_days,
        cast({{ max_age_days if max_age_days is not none else 'null' }} as {{ dbt.type_int() }}) as max_age_days,
        case
            when latest.row_count = 0 then 'no rows'
            {%- if max_age_days is not none %}
                when
                    {{ dbt.datediff('cast(latest.latest_event_at as date)', 'as_of.as_of_date', 'day') }}
                    > {{ max_age_days }}
                    then 'stale'
                else 'fresh'
            {%- else %}
                else 'not checked'
            {%- endif %}
        end as freshness_status,
        as_of.as_of_date
    from latest
    cross join as_of
)

select * from final
