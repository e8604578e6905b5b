{#- Lifecycle stage of every customer as of as_of_date, by the lifecycle family of the
    segment registry (models/marts/segments/families/*.yml): the first rule that
    holds wins - Prospect, New, Reactivated, Active, At risk - otherwise Churned. -#}

with

dim_customers as (
    select * from {{ ref('dim_customers') }}
),

segmentable as (
    select * from {{ ref('int_customers_segmentable') }}
),

{# Objectors to profiling get no lifecycle stage. #}
customers as (
    select dim_customers.*
    from dim_customers
    inner join segmentable
        on dim_customers.customer_id = segmentable.customer_id
),

staged as (
    select
        customer_id,
        {{ segment_case('lifecycle') }} as lifecycle_stage,
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
