with

store_transactions as (
    select * from {{ ref('base_pos__store_transactions') }}
    where quarantine_reason is null
),

final as (
    select
        transaction_id,
        store_id,
        loyalty_card_id,
        customer_id,
        currency_code,
        coupon_code,
        amount_reporting as amount,
        discount_amount_reporting as discount_amount,
        amount as original_amount,
        transacted_at
    from store_transactions
)

select * from final
