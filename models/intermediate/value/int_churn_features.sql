{#- Features and churn labels for the supervised churn score, one row per purchaser and
    cut-off. Three cut-offs, var churn.window_days (w) apart:
      train:  as_of_date - 2w, labelled by the purchases up to as_of_date - w
      test:   as_of_date - w,  labelled by the purchases up to as_of_date
      score:  as_of_date,      not labelled (the future is not in the data)
    Every feature uses only purchases on or before its cut-off, so a model trained on one
    cut-off and evaluated on the next never sees the period it predicts. One pass over
    the purchase days computes all three cut-offs. -#}
{%- set window_days = var('churn.window_days') | int -%}
{%- set days_per_unit = 7.0 if var('clv.time_unit') == 'week' else 1.0 -%}
{%- set cutoffs = ['train', 'test', 'score'] -%}

with

all_purchase_days as (
    select * from {{ ref('int_customer_purchase_days') }}
),

customers as (
    select * from {{ ref('int_customers_profiled') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

cutoff_dates as (
    select * from {{ ref('int_churn_cutoffs') }}
),

purchase_days as (
    select all_purchase_days.*
    from all_purchase_days
    cross join as_of
    where all_purchase_days.order_date <= as_of.as_of_date
),

customer_cutoffs as (
    select
        purchase_days.customer_id,
        {%- for role in cutoffs %}
            {%- set cutoff = 'cutoff_dates.' ~ role ~ '_cutoff_date' %}
            {%- set before = 'purchase_days.order_date <= ' ~ cutoff %}
            {%- set recent = before ~ ' and purchase_days.order_date > '
                ~ dbt.dateadd('day', -window_days, cutoff) %}
            min(case when {{ before }} then purchase_days.order_date end) as {{ role }}_first_date,
            max(case when {{ before }} then purchase_days.order_date end) as {{ role }}_last_date,
            sum(case when {{ before }} then 1 else 0 end) as {{ role }}_purchase_days,
            sum(case when {{ before }} then purchase_days.day_orders else 0 end) as {{ role }}_orders,
            sum(case when {{ before }} then purchase_days.day_amount else 0 end) as {{ role }}_spend,
            sum(case when {{ before }} then purchase_days.day_discounted_orders else 0 end)
                as {{ role }}_discounted_orders,
            sum(case when {{ before }} then purchase_days.day_online_orders else 0 end)
                as {{ role }}_online_orders,
            sum(case when {{ recent }} then purchase_days.day_orders else 0 end) as {{ role }}_recent_orders,
            sum(case when {{ recent }} then purchase_days.day_amount else 0 end) as {{ role }}_recent_spend,
            max(
                case
                    when
                        purchase_days.order_date > {{ cutoff }}
                        and purchase_days.order_date <= {{ dbt.dateadd('day', window_days, cutoff) }}
                        then 1
                    else 0
                end
            ) as {{ role }}_purchased_after,
        {%- endfor %}
        max(cutoff_dates.as_of_date) as as_of_date
    from purchase_days
    cross join cutoff_dates
    group by purchase_days.customer_id
),

unpivoted as (
    {%- for role in cutoffs %}
        select
            customer_cutoffs.customer_id,
            {{ text_literal(role) }} as cutoff_role,
            cutoff_dates.{{ role }}_cutoff_date as cutoff_date,
            customer_cutoffs.{{ role }}_first_date as first_purchase_date,
            customer_cutoffs.{{ role }}_last_date as last_purchase_date,
            customer_cutoffs.{{ role }}_purchase_days as purchase_days,
            customer_cutoffs.{{ role }}_orders as order_count,
            customer_cutoffs.{{ role }}_spend as spend,
            customer_cutoffs.{{ role }}_discounted_orders as discounted_orders,
            customer_cutoffs.{{ role }}_online_orders as online_orders,
            customer_cutoffs.{{ role }}_recent_orders as recent_orders,
            customer_cutoffs.{{ role }}_recent_spend as recent_spend,
            {%- if role == 'score' %}
                cast(null as {{ dbt.type_int() }}) as is_churned,
            {%- else %}
                1 - customer_cutoffs.{{ role }}_purchased_after as is_churned,
            {%- endif %}
            customer_cutoffs.as_of_date
        from customer_cutoffs
        cross join cutoff_dates
        where customer_cutoffs.{{ role }}_first_date is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

final as (
    select
        unpivoted.customer_id,
        unpivoted.cutoff_role,
        unpivoted.cutoff_date,
        {{ dbt.datediff('unpivoted.last_purchase_date', 'unpivoted.cutoff_date', 'day') }}
            as days_since_last_purchase,
        {{ dbt.datediff('unpivoted.first_purchase_date', 'unpivoted.cutoff_date', 'day') }} as tenure_days,
        unpivoted.order_count,
        unpivoted.purchase_days,
        unpivoted.spend,
        cast(unpivoted.spend as {{ type_ratio() }}) / unpivoted.order_count as average_order_value,
        unpivoted.recent_orders,
        unpivoted.recent_spend,
        cast(unpivoted.discounted_orders as {{ type_ratio() }}) / unpivoted.order_count
            as discount_order_share,
        cast(unpivoted.online_orders as {{ type_ratio() }}) / unpivoted.order_count as online_order_share,
        customers.age_years,
        cast(unpivoted.purchase_days - 1 as {{ dbt.type_int() }}) as frequency,
        cast(
            {{ dbt.datediff('unpivoted.first_purchase_date', 'unpivoted.last_purchase_date', 'day') }}
            as {{ type_ratio() }}
        ) / {{ days_per_unit }} as recency,
        cast(
            {{ dbt.datediff('unpivoted.first_purchase_date', 'unpivoted.cutoff_date', 'day') }}
            as {{ type_ratio() }}
        ) / {{ days_per_unit }} as age,
        cast(unpivoted.is_churned as {{ dbt.type_int() }}) as is_churned,
        unpivoted.as_of_date
    from unpivoted
    left join customers
        on unpivoted.customer_id = customers.customer_id
)

select * from final
