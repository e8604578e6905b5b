{#- Refunds rolled up to one row per order. -#}
with

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

final as (
    select
        order_id,
        count(*) as refund_count,
        sum(refund_amount) as refunded_amount,
        min(returned_at) as first_returned_at
    from returns
    group by order_id
)

select * from final
