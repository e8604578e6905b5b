{# One row per order_id seen in the raw orders table: whether any of its rows was
    staged, and the staged row's currency, which its lines and refunds are priced in, its
    amount and its version (updated_at, else ordered_at), which dates its lines. -#}
with

orders as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        order_id,
        max(case when quarantine_reason is null then currency_code end) as currency_code,
        max(case when quarantine_reason is null then to_reporting_rate end) as to_reporting_rate,
        max(case when quarantine_reason is null then amount_reporting end) as amount_reporting,
        max(case when quarantine_reason is null then version_at end) as version_at,
        max(case when quarantine_reason is null then 1 else 0 end) = 1 as is_staged
    from orders
    where order_id is not null
    group by order_id
)

select * from final
