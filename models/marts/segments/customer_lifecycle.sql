{#- Lifecycle stage of every customer as of as_of_date. The first rule that holds wins:
    Prospect, New, Reactivated, Active, At risk, Churned (seeds/lifecycle_stages.csv). -#}
{%- set new_days = var('lifecycle_new_days') | int -%}
{%- set active_days = var('lifecycle_active_days') | int -%}
{%- set churn_days = var('lifecycle_churn_days') | int -%}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

staged as (
    select
        customer_id,
        case
            when not has_purchased then 'Prospect'
            when days_since_first_order < {{ new_days }} then 'New'
            when days_since_last_reactivation < {{ active_days }} then 'Reactivated'
            when days_since_last_order < {{ active_days }} then 'Active'
            when days_since_last_order < {{ churn_days }} then 'At risk'
            else 'Churned'
        end as lifecycle_stage,
        order_count,
        days_since_first_order,
        days_since_last_order,
        days_since_last_reactivation,
        as_of_date,
        first_order_date,
        last_order_date,
        last_reactivation_date
    from customers
),

final as (
    select * from staged
)

select * from final
