{#- One row per customer purchase (shop orders and store transactions attributed to a
    customer), all dates: facts are history, not limited to as_of_date. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
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
        cast(amount as {{ type_money() }}) as amount,
        cast(discount_amount as {{ type_money() }}) as discount_amount,
        cast(refunded_amount as {{ type_money() }}) as refunded_amount,
        cast(net_amount as {{ type_money() }}) as net_amount,
        cast(line_count as {{ dbt.type_bigint() }}) as line_count,
        cast(item_quantity as {{ dbt.type_bigint() }}) as item_quantity,
        cast(refund_count as {{ dbt.type_bigint() }}) as refund_count,
        cast(customer_order_number as {{ dbt.type_bigint() }}) as customer_order_number,
        cast(days_since_previous_order as {{ dbt.type_bigint() }}) as days_since_previous_order,
        is_first_order,
        is_discounted,
        has_refund,
        order_date,
        ordered_at
    from orders
)

select * from final
