{#- Every source record that may belong to a person, once: shop customer accounts (and,
    without a customer master, the customer ids that purchased), loyalty cards seen at
    the store tills and web visitors' anonymous ids. A record's key is its source and
    its id in that source; first_seen_at is its earliest trace in the data, which picks
    the id a merged person keeps. -#}
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

store_transactions as (
    select * from {{ ref('stg_pos__store_transactions') }}
),

sessions as (
    select * from {{ ref('stg_web__sessions') }}
),

shop_purchases as (
    select
        customer_id,
        ordered_at as purchased_at
    from shop_orders
    union all
    select
        customer_id,
        transacted_at as purchased_at
    from store_transactions
    where customer_id is not null
),

shop_first_purchases as (
    select
        customer_id,
        min(purchased_at) as first_purchased_at
    from shop_purchases
    group by customer_id
),

shop_records as (
    -- With a customer master, purchases by unknown customers are quarantined in
    -- staging, so the full join adds purchasers only when there is no master.
    select
        coalesce(customers.customer_id, shop_first_purchases.customer_id) as source_customer_id,
        case
            when shop_first_purchases.first_purchased_at is null then customers.signed_up_at
            when customers.signed_up_at is null then shop_first_purchases.first_purchased_at
            when customers.signed_up_at < shop_first_purchases.first_purchased_at then customers.signed_up_at
            else shop_first_purchases.first_purchased_at
        end as first_seen_at
    from customers
    full outer join shop_first_purchases
        on customers.customer_id = shop_first_purchases.customer_id
),

card_records as (
    select
        loyalty_card_id as source_customer_id,
        min(transacted_at) as first_seen_at
    from store_transactions
    where loyalty_card_id is not null
    group by loyalty_card_id
),

visitor_records as (
    select
        anonymous_id as source_customer_id,
        min(started_at) as first_seen_at
    from sessions
    where anonymous_id is not null
    group by anonymous_id
),

unioned as (
    select
        'shop' as source,  -- noqa: RF04
        source_customer_id,
        first_seen_at
    from shop_records
    union all
    select
        'pos' as source,  -- noqa: RF04
        source_customer_id,
        first_seen_at
    from card_records
    union all
    select
        'web' as source,  -- noqa: RF04
        source_customer_id,
        first_seen_at
    from visitor_records
),

final as (
    select
        source || ':' || source_customer_id as record_key,
        source,
        source_customer_id,
        source in ('shop', 'pos') as is_customer_record,
        case source when 'shop' then 1 when 'pos' then 2 else 3 end as source_rank,
        first_seen_at
    from unioned
)

select * from final
