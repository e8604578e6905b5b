with

returns as (
    select * from {{ ref('base_shop__returns') }}
    where quarantine_reason is null
),

final as (
    select
        return_id,
        order_id,
        order_line_id,
        currency_code,
        return_reason,
        refund_amount_reporting as refund_amount,
        refund_amount as original_refund_amount,
        returned_at
    from returns
)

select * from final
