{#- Store transactions with the customer they belong to: the customer id captured at the
    till, else the owner of the scanned loyalty card. A card linked to several accounts
    goes to the smallest customer id, so attribution is deterministic. -#}
with

store_transactions as (
    select * from {{ ref('stg_pos__store_transactions') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

card_owners as (
    select
        loyalty_card_id,
        min(customer_id) as customer_id
    from customers
    where loyalty_card_id is not null
    group by loyalty_card_id
),

final as (
    select
        store_transactions.transaction_id,
        coalesce(store_transactions.customer_id, card_owners.customer_id) as customer_id,
        store_transactions.store_id,
        store_transactions.loyalty_card_id,
        store_transactions.currency_code,
        store_transactions.coupon_code,
        case
            when store_transactions.customer_id is not null then 'customer_id'
            when card_owners.customer_id is not null then 'loyalty_card'
        end as attributed_by,
        store_transactions.amount,
        store_transactions.discount_amount,
        store_transactions.transacted_at
    from store_transactions
    left join card_owners
        on store_transactions.loyalty_card_id = card_owners.loyalty_card_id
)

select * from final
