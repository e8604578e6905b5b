{{ config(materialized='view') }}

{# Every purchase that belongs to a customer: shop orders and attributed store
    transactions, in one shape. Anonymous store transactions stay in staging. -#}
with

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

store_transactions as (
    select * from {{ ref('int_store_transactions_attributed') }}
    where customer_id is not null
),

channel_codes as (
    select * from {{ ref('stg_reference__channel_codes') }}
),

unioned as (
    select
        order_id,
        customer_id,
        'shop' as order_source,
        order_id as source_order_id,
        channel,
        currency_code,
        coupon_code,
        amount,
        discount_amount,
        ordered_at
    from shop_orders

    union all

    select
        'pos:' || transaction_id as order_id,
        customer_id,
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
