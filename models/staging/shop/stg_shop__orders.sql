with

orders as (
    select * from {{ ref('base_shop__orders') }}
    where quarantine_reason is null
),

channel_codes as (
    select * from {{ ref('stg_reference__channel_codes') }}
),

normalised as (
    select
        orders.order_id,
        orders.customer_id,
        orders.currency_code,
        case
            when orders.channel is null then null
            else coalesce(channel_codes.channel, 'other')
        end as channel,
        orders.coupon_code,
        orders.amount_reporting as amount,
        orders.discount_amount_reporting as discount_amount,
        orders.amount as original_amount,
        orders.discount_amount as original_discount_amount,
        orders.to_reporting_rate,
        orders.ordered_at,
        orders.updated_at
    from orders
    left join channel_codes
        on lower(orders.channel) = channel_codes.channel_alias
)

select * from normalised
