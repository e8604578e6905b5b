{#- The backtest of the lifetime-value predictions, one row per calibration purchaser (a
    customer of int_customer_clv_summary): what the models predicted for the holdout
    period after as_of_date against what the customer did in it. Actual purchases are
    counted the way the summary counts them - purchases on one day are one transaction,
    valued with the same `amount`. Customers whose first purchase falls in the holdout
    period are not part of the backtest: the models made no prediction for them.
    Empty when nothing was ordered after as_of_date (holdout_days = 0). -#}
{%- set decile_count = 10 -%}

with

summary as (
    select * from {{ ref('int_customer_clv_summary') }}
),

predicted as (
    select * from {{ ref('int_customer_clv_predicted') }}
),

purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

backtest_window as (
    select * from {{ ref('int_clv_backtest_window') }}
),

holdout_purchase_days as (
    select
        purchase_days.customer_id,
        purchase_days.order_date,
        purchase_days.day_amount
    from purchase_days
    cross join backtest_window
    where
        backtest_window.holdout_days > 0
        and purchase_days.order_date >= backtest_window.holdout_start_date
        and purchase_days.order_date <= backtest_window.holdout_end_date
),

holdout_actuals as (
    select
        customer_id,
        count(*) as actual_transactions,
        sum(day_amount) as actual_spend
    from holdout_purchase_days
    group by customer_id
),

calibration_customers as (
    select
        summary.customer_id,
        summary.frequency as calibration_frequency,
        predicted.expected_holdout_purchases as predicted_transactions,
        predicted.expected_holdout_value as predicted_value,
        predicted.predicted_clv,
        coalesce(holdout_actuals.actual_transactions, 0) as actual_transactions,
        coalesce(holdout_actuals.actual_spend, 0) as actual_spend,
        backtest_window.holdout_days,
        backtest_window.holdout_start_date,
        backtest_window.holdout_end_date,
        backtest_window.as_of_date
    from summary
    inner join predicted
        on summary.customer_id = predicted.customer_id
    cross join backtest_window
    left join holdout_actuals
        on summary.customer_id = holdout_actuals.customer_id
    where backtest_window.holdout_days > 0
),

clv_deciles as (
    {# Customers without a predicted CLV (only when the Gamma-Gamma model could not value
       them) are ranked apart and get no decile. -#}
    select
        *,
        ntile({{ decile_count }}) over (
            partition by predicted_clv is null
            order by predicted_clv desc, customer_id asc
        ) as clv_rank_decile
    from calibration_customers
),

final as (
    select
        customer_id,
        cast(calibration_frequency as {{ dbt.type_int() }}) as calibration_frequency,
        cast(case when predicted_clv is not null then clv_rank_decile end as {{ dbt.type_int() }}) as clv_decile,
        cast(predicted_transactions as {{ type_ratio() }}) as predicted_transactions,
        cast(actual_transactions as {{ dbt.type_int() }}) as actual_transactions,
        cast(predicted_value as {{ type_ratio() }}) as predicted_value,
        cast(actual_spend as {{ type_money() }}) as actual_spend,
        cast(predicted_clv as {{ type_ratio() }}) as predicted_clv,
        cast(holdout_days as {{ dbt.type_int() }}) as holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from clv_deciles
)

select * from final
