{#- How fresh each event source is on as_of_date (int_source_freshness_checked, which
    stops the run on a stale source or one without events by then). -#}
with

freshness as (
    select * from {{ ref('int_source_freshness_checked') }}
),

final as (
    select
        source_name,
        table_name,
        row_count,
        latest_event_at,
        age_days,
        max_age_days,
        freshness_status,
        as_of_date
    from freshness
)

select * from final
