{#- The holdout period a backtest compares predictions with: from the day after
    as_of_date to the last order date in the data, at most var clv.horizon_days long.
    Run with an as_of_date before the end of the data to backtest; when nothing was
    ordered after as_of_date, holdout_days is 0 and the backtest marts are empty. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

latest as (
    select max(order_date) as latest_order_date
    from orders
),

bounded as (
    select
        as_of.as_of_date,
        latest.latest_order_date,
        case
            when latest.latest_order_date > as_of.as_of_date
                then {{ dbt.datediff('as_of.as_of_date', 'latest.latest_order_date', 'day') }}
            else 0
        end as observed_days
    from as_of
    cross join latest
),

final as (
    select
        as_of_date,
        latest_order_date,
        least(observed_days, {{ var('clv.horizon_days') | int }}) as holdout_days,
        cast({{ dbt.dateadd('day', 1, 'as_of_date') }} as date) as holdout_start_date,
        cast(
            {{ dbt.dateadd('day', 'least(observed_days, ' ~ (var('clv.horizon_days') | int) ~ ')', 'as_of_date') }}
            as date
        ) as holdout_end_date
    from bounded
)

select * from final
