{#- One row per customer purchase with its line and refund totals and its place in the
    customer's purchase sequence. History: not limited to as_of_date. -#}
-- A run whose sources failed a data-quality gate or are stale builds nothing on top of them:
-- depends_on: {{ ref('int_raw_tables_gated') }}, {{ ref('int_source_freshness_checked') }}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

order_lines as (
    select * from {{ ref('int_order_lines_aggregated') }}
),

refunds as (
    select * from {{ ref('int_refunds_aggregated') }}
),

joined as (
    select
        orders.order_id,
        orders.customer_id,
        orders.source_customer_id,
        orders.source_order_id,
        orders.order_source,
        orders.channel,
        orders.channel_group,
        orders.currency_code,
        orders.coupon_code,
        orders.amount,
        coalesce(orders.discount_amount, 0)
        + coalesce(order_lines.line_discount_amount, 0) as discount_amount,
        coalesce(refunds.refunded_amount, 0) as refunded_amount,
        orders.amount - coalesce(refunds.refunded_amount, 0) as net_amount,
        order_lines.line_count,
        order_lines.item_quantity,
        coalesce(refunds.refund_count, 0) as refund_count,
        orders.order_date,
        orders.ordered_at,
        refunds.first_returned_at
    from orders
    left join order_lines
        on orders.order_id = order_lines.order_id
    left join refunds
        on orders.order_id = refunds.order_id
),

sequenced as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by ordered_at, order_id
        ) as customer_order_number,
        lag(order_date) over (
            partition by customer_id
            order by ordered_at, order_id
        ) as previous_order_date
    from joined
),

final as (
    select
        order_id,
        customer_id,
        source_customer_id,
        source_order_id,
        order_source,
        channel,
        channel_group,
        currency_code,
        coupon_code,
        amount,
        discount_amount,
        refunded_amount,
        net_amount,
        line_count,
        item_quantity,
        refund_count,
        customer_order_number,
        {{ dbt.datediff('previous_order_date', 'order_date', 'day') }} as days_since_previous_order,
        customer_order_number = 1 as is_first_order,
        (discount_amount > 0 or coupon_code is not null) as is_discounted,
        refund_count > 0 as has_refund,
        order_date,
        ordered_at,
        first_returned_at
    from sequenced
)

select * from final
