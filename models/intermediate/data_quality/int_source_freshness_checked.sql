{#- How fresh the event sources are on as_of_date: per table, the latest valid event at or
    before the end of as_of_date and its age in days. The post-hook stops the run, naming
    the source, its file and its latest event, when a delivered table has no valid event
    by then (no rows; an empty file included) or, with var quality.source_max_age_days set (the
    scheduled job sets it), when its latest event is older (stale): nothing is built or
    published from data that stopped arriving. An optional source that was not delivered
    is absent and not judged. -#}
{{ config(post_hook="{{ report_stale_sources() }}") }}

{%- set max_age_days = var('quality.source_max_age_days', none) -%}
{%- set event_tables = [
    ('shop', 'orders', 'stg_shop__orders', 'ordered_at'),
    ('pos', 'store_transactions', 'stg_pos__store_transactions', 'transacted_at'),
    ('web', 'web_sessions', 'stg_web__sessions', 'started_at'),
] -%}

with

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

loaded_tables as (
    select * from {{ ref('stg_loader__loaded_tables') }}
),

{% for source_name, table_name, model_name, column in event_tables -%}
    {{ table_name }}_latest as (
        select
            {{ text_literal(source_name) }} as source_name,
            {{ text_literal(table_name) }} as table_name,
            count(case when events.{{ column }} < as_of.as_of_end_at then 1 end) as row_count,
            count(events.{{ column }}) as all_rows,
            max(case when events.{{ column }} < as_of.as_of_end_at then events.{{ column }} end) as latest_event_at,
            min(events.{{ column }}) as first_event_at
        from {{ ref(model_name) }} as events
        cross join as_of
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
            when loaded_tables.raw_location = 'absent' then 'absent'
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
        as_of.as_of_date,
        latest.first_event_at,
        loaded_tables.raw_location
    from latest
    cross join as_of
    inner join loaded_tables
        on latest.table_name = loaded_tables.table_name
)

select * from final
