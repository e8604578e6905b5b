{{ config(materialized='view') }}

{# Every purchase that belongs to a customer: shop orders and attributed store
    transactions, in one shape, each attributed to the resolved person (customer_id)
    and keeping the account id it was placed under (source_customer_id). Anonymous store
    transactions stay in staging. -#}
with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

store_transactions as (
    select * from {{ ref('int_store_transactions_attributed') }}
    where customer_id is not null
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

channel_codes as (
    select * from {{ ref('stg_reference__channel_codes') }}
),

unioned as (
    select
        shop_orders.order_id,
        resolved.customer_id,
        shop_orders.customer_id as source_customer_id,
        'shop' as order_source,
        shop_orders.order_id as source_order_id,
        shop_orders.channel,
        shop_orders.currency_code,
        shop_orders.coupon_code,
        shop_orders.amount,
        shop_orders.discount_amount,
        shop_orders.ordered_at
    from shop_orders
    left join resolved
        on shop_orders.customer_id = resolved.source_customer_id

    union all

    select
        'pos:' || transaction_id as order_id,
        customer_id,
        source_customer_id,
        'pos' as order_source,
        transaction_id as source_order_id,
        'store' as channel,
        currency_code,
        coupon_code,
        amount,
        discount_amount,
        transacted_at as ordered_at
    from store_transactions
),

final as (
    select
        unioned.order_id,
        unioned.customer_id,
        -- an erased person's orders keep only the placeholder
        case when not coalesce(unioned.customer_id = {{ erased_customer_id() }}, false) then unioned.source_customer_id end
            as source_customer_id,
        unioned.order_source,
        unioned.source_order_id,
        unioned.channel,
        channel_codes.channel_group,
        unioned.currency_code,
        unioned.coupon_code,
        unioned.amount,
        unioned.discount_amount,
        unioned.ordered_at,
        cast(unioned.ordered_at as date) as order_date
    from unioned
    left join channel_codes
        on unioned.channel = channel_codes.channel_alias
)

select * from final
