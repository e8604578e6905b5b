{#- One row per day from var semantic.time_spine_start to the day before var semantic.time_spine_end: the
    calendar MetricFlow joins metrics to (metric_time). -#}
with

days as (
    {{ dbt.date_spine(
        'day',
        "cast('" ~ var('semantic.time_spine_start') ~ "' as date)",
        "cast('" ~ var('semantic.time_spine_end') ~ "' as date)",
    ) }}
),

final as (
    select cast(date_day as date) as date_day from days
)

select * from final
