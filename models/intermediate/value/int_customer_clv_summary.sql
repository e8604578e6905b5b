{#- The summary the lifetime-value models are fitted on, per purchaser as of as_of_date:
    frequency (repeat purchase days: purchases on one day count once), recency (first to
    last purchase day), age (first purchase day to as_of_date; T in the papers) in the
    unit of var clv.time_unit (day, or week = days / 7), and the mean value of the
    repeat purchase days (the first day excluded, as the Gamma-Gamma model needs). -#}
{%- set unit = var('clv.time_unit') -%}
{%- if unit not in ['day', 'week'] -%}
    {{ exceptions.raise_compiler_error("var clv.time_unit must be 'day' or 'week', not '" ~ unit ~ "'.") }}
{%- endif -%}
{%- set days_per_unit = 7.0 if unit == 'week' else 1.0 -%}

with

all_purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

purchase_days as (
    select
        all_purchase_days.customer_id,
        all_purchase_days.order_date,
        all_purchase_days.day_amount
    from all_purchase_days
    cross join as_of
    where all_purchase_days.order_date <= as_of.as_of_date
),

ranked_days as (
    select
        *,
        row_number() over (partition by customer_id order by order_date) as day_number
    from purchase_days
),

customer_days as (
    select
        customer_id,
        count(*) - 1 as frequency,
        min(order_date) as first_purchase_date,
        max(order_date) as last_purchase_date,
        sum(case when day_number > 1 then day_amount end) as repeat_amount
    from ranked_days
    group by customer_id
),

customer_days_aged as (
    select
        customer_days.*,
        {{ dbt.datediff('customer_days.first_purchase_date', 'customer_days.last_purchase_date', 'day') }}
            as recency_days,
        {{ dbt.datediff('customer_days.first_purchase_date', 'as_of.as_of_date', 'day') }} as age_days
    from customer_days
    cross join as_of
),

final as (
    select
        customer_days.customer_id,
        cast(customer_days.frequency as {{ dbt.type_int() }}) as frequency,
        cast(customer_days.recency_days as {{ type_ratio() }}) / {{ days_per_unit }} as recency,
        cast(customer_days.age_days as {{ type_ratio() }}) / {{ days_per_unit }} as age,
        case
            when customer_days.frequency > 0
                then cast(customer_days.repeat_amount as {{ type_ratio() }}) / customer_days.frequency
        end as monetary_value,
        {{ text_literal(unit) }} as time_unit,
        customer_days.first_purchase_date,
        customer_days.last_purchase_date,
        as_of.as_of_date
    from customer_days_aged as customer_days
    cross join as_of
)

select * from final
