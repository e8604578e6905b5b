{# One row per customer_id seen in the raw customers table, and whether any of its rows
    was staged. Other sources check their customer references against it. -#}
with

customers as (
    select * from {{ ref('base_shop__customers') }}
),

final as (
    select
        customer_id,
        max(case when quarantine_reason is null then 1 else 0 end) = 1 as is_staged
    from customers
    where customer_id is not null
    group by customer_id
)

select * from final
