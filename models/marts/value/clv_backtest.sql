{#- Predicted against actual holdout transactions and value, for all calibration
    purchasers (breakdown 'total'), by calibration frequency (repeat purchase days before
    as_of_date: 0 to 6 and 7+) and by predicted-CLV decile (1 = highest). Every breakdown
    covers the same customers, so its rows add up to the total (deciles: the customers
    with a predicted CLV). Empty when there is no data after as_of_date. -#}
{#- The frequency buckets are the fixed reporting grid of the calibration/holdout plots of
    the BG/NBD literature (0, 1, ... 6, 7+), not a tunable threshold. -#}
{%- set top_frequency_bucket = 7 -%}

with

backtested as (
    select * from {{ ref('int_customer_clv_backtested') }}
),

bucketed as (
    select
        *,
        case
            when calibration_frequency >= {{ top_frequency_bucket }}
                then {{ text_literal(top_frequency_bucket ~ '+') }}
            else cast(calibration_frequency as {{ dbt.type_string() }})
        end as frequency_bucket,
        case
            when calibration_frequency >= {{ top_frequency_bucket }} then {{ top_frequency_bucket }}
            else calibration_frequency
        end as frequency_bucket_order
    from backtested
),

total_groups as (
    {# Grouped by the window's columns (one value each) rather than by nothing, so that an
       empty backtest gives no total row instead of a row of zeros. -#}
    select
        'total' as breakdown_name,
        'all' as group_value,
        0 as group_order,
        count(*) as customers,
        sum(predicted_transactions) as predicted_transactions,
        sum(actual_transactions) as actual_transactions,
        sum(predicted_value) as predicted_value,
        sum(actual_spend) as actual_spend,
        holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from bucketed
    group by holdout_days, holdout_start_date, holdout_end_date, as_of_date
),

frequency_groups as (
    select
        'calibration_frequency' as breakdown_name,
        frequency_bucket as group_value,
        frequency_bucket_order as group_order,
        count(*) as customers,
        sum(predicted_transactions) as predicted_transactions,
        sum(actual_transactions) as actual_transactions,
        sum(predicted_value) as predicted_value,
        sum(actual_spend) as actual_spend,
        holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from bucketed
    group by
        frequency_bucket,
        frequency_bucket_order,
        holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
),

decile_groups as (
    select
        'clv_decile' as breakdown_name,
        cast(clv_decile as {{ dbt.type_string() }}) as group_value,
        clv_decile as group_order,
        count(*) as customers,
        sum(predicted_transactions) as predicted_transactions,
        sum(actual_transactions) as actual_transactions,
        sum(predicted_value) as predicted_value,
        sum(actual_spend) as actual_spend,
        holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from bucketed
    where clv_decile is not null
    group by clv_decile, holdout_days, holdout_start_date, holdout_end_date, as_of_date
),

unioned as (
    select * from total_groups
    union all
    select * from frequency_groups
    union all
    select * from decile_groups
),

final as (
    select
        cast(breakdown_name as {{ dbt.type_string() }}) as breakdown,
        cast(group_value as {{ dbt.type_string() }}) as group_value,
        cast(group_order as {{ dbt.type_int() }}) as group_order,
        cast(customers as {{ dbt.type_bigint() }}) as customers,
        cast(predicted_transactions as {{ type_ratio() }}) as predicted_transactions,
        cast(actual_transactions as {{ dbt.type_bigint() }}) as actual_transactions,
        cast(predicted_value as {{ type_ratio() }}) as predicted_value,
        cast(actual_spend as {{ type_money() }}) as actual_spend,
        cast(predicted_transactions as {{ type_ratio() }}) / customers as predicted_transactions_per_customer,
        cast(actual_transactions as {{ type_ratio() }}) / customers as actual_transactions_per_customer,
        cast(predicted_value as {{ type_ratio() }}) / customers as predicted_value_per_customer,
        cast(actual_spend as {{ type_ratio() }}) / customers as actual_spend_per_customer,
        cast(holdout_days as {{ dbt.type_int() }}) as holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from unioned
)

select * from final
