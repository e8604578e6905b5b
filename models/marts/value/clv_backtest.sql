{#- Predicted against actual holdout transactions and value, for all calibration
    purchasers (breakdown 'total'), by calibration frequency (repeat purchase days before
    as_of_date: 0 to 6 and 7+) and by predicted-CLV decile (1 = highest). Every breakdown
    covers the same customers, so its rows add up to the total (deciles: the customers
    with a predicted CLV). Empty when there is no data after as_of_date. -#}
{#- The frequency buckets are the fixed reporting grid of the calibration/holdout plots of
    the BG/NBD literature (0, 1, ... 6, 7+), not a tunable threshold. -#}
{%- set top_frequency_bucket = 7 -%}
{%- set breakdowns = [
    {'name': 'total', 'value': "'all'", 'order': '0', 'group_keys': [], 'where': none},
    {
        'name': 'calibration_frequency',
        'value': 'frequency_bucket',
        'order': 'frequency_bucket_order',
        'group_keys': ['frequency_bucket', 'frequency_bucket_order'],
        'where': none,
    },
    {
        'name': 'clv_decile',
        'value': 'cast(clv_decile as ' ~ dbt.type_string() ~ ')',
        'order': 'clv_decile',
        'group_keys': ['clv_decile'],
        'where': 'clv_decile is not null',
    },
] -%}

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

grouped as (
    {#- Each breakdown groups by its keys and the window's columns (one value each), so
        that an empty backtest gives no rows, not a total row of zeros. -#}
    {%- for breakdown in breakdowns %}
        select
            {{ text_literal(breakdown.name) }} as breakdown_name,
            {{ breakdown.value }} as group_value,
            {{ breakdown.order }} as group_order,
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
        {%- if breakdown.where %}
            where {{ breakdown.where }}
        {%- endif %}
        group by
            {%- for key in breakdown.group_keys %}
                {{ key }},
            {%- endfor %}
            holdout_days,
            holdout_start_date,
            holdout_end_date,
            as_of_date
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
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
    from grouped
)

select * from final
