{#- Shopping occasions (gift holidays, seasons) with their date windows, from
    seeds/occasion_calendar.csv. -#}
with

occasion_calendar as (
    select * from {{ ref('occasion_calendar') }}
),

final as (
    select
        lower(trim(occasion)) as occasion,
        lower(trim(occasion_group)) as occasion_group,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date
    from occasion_calendar
)

select * from final
