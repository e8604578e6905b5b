{#- Store transactions with the person they belong to: the person of the customer id
    captured at the till, else the person of the scanned loyalty card (identity
    resolution links a card to the accounts that hold it, or makes the card a person of
    its own). A transaction with neither stays anonymous. -#}
with

store_transactions as (
    select * from {{ ref('stg_pos__store_transactions') }}
),

-- one narrow import of the resolved records for both roles (account and card); see
-- int_customer_sessions_aggregated
resolved as (
    select
        source,
        source_customer_id,
        customer_id
    from {{ ref('int_identity_records_resolved') }}
    where source in ('shop', 'pos')
),

final as (
    select
        store_transactions.transaction_id,
        coalesce(account_people.customer_id, card_people.customer_id) as customer_id,
        store_transactions.customer_id as source_customer_id,
        store_transactions.store_id,
        store_transactions.loyalty_card_id,
        store_transactions.currency_code,
        store_transactions.coupon_code,
        case
            when account_people.customer_id is not null then 'customer_id'
            when card_people.customer_id is not null then 'loyalty_card'
        end as attributed_by,
        store_transactions.amount,
        store_transactions.discount_amount,
        store_transactions.transacted_at
    from store_transactions
    left join resolved as account_people
        on
            account_people.source = 'shop'
            and store_transactions.customer_id = account_people.source_customer_id
    left join resolved as card_people
        on
            card_people.source = 'pos'
            and store_transactions.loyalty_card_id = card_people.source_customer_id
)

select * from final
