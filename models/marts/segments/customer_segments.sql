{#- One row per customer, one column per segment family: the stable interface BI tools
    and later segment families build on. -#}
with

customers as (
    select * from {{ ref('dim_customers') }}
),

lifecycle as (
    select * from {{ ref('customer_lifecycle') }}
),

rfm as (
    select * from {{ ref('customer_rfm') }}
),

final as (
    select
        customers.customer_id,
        lifecycle.lifecycle_stage,
        rfm.rfm_segment,
        rfm.rfm_cell,
        customers.has_any_marketing_consent,
        customers.as_of_date
    from customers
    left join lifecycle
        on customers.customer_id = lifecycle.customer_id
    left join rfm
        on customers.customer_id = rfm.customer_id
)

select * from final
