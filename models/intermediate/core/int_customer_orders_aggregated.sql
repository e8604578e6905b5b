{#- Purchase history per customer as of as_of_date: counts, spend, refunds booked by
    then, discounts, channels, active days and the last return after a lapse. -#}
{%- set churn_days = var('lifecycle.churn_days') | int -%}
{%- set rfm_window_days = var('rfm.window_days', none) -%}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

orders_as_of as (
    select
        orders.*,
        as_of.as_of_date
    from orders
    cross join as_of
    where orders.ordered_at < as_of.as_of_end_at
),

order_refunds_as_of as (
    -- Refunds count only once booked, so a later refund does not rewrite the past.
    select
        returns.order_id,
        count(*) as refund_count,
        sum(returns.refund_amount) as refunded_amount
    from returns
    cross join as_of
    where returns.returned_at < as_of.as_of_end_at
    group by returns.order_id
),

customer_refunds as (
    select
        orders_as_of.customer_id,
        count(*) as refunded_order_count,
        sum(order_refunds_as_of.refund_count) as refund_count,
        sum(order_refunds_as_of.refunded_amount) as refunded_amount
    from order_refunds_as_of
    inner join orders_as_of
        on order_refunds_as_of.order_id = orders_as_of.order_id
    group by orders_as_of.customer_id
),

active_days as (
    -- Purchases on the same day form one active day.
    select
        customer_id,
        order_date,
        lag(order_date) over (
            partition by customer_id
            order by order_date
        ) as previous_active_date
    from orders_as_of
    group by customer_id, order_date
),

customer_active_days as (
    select
        customer_id,
        count(*) as active_days,
        max(
            case
                when {{ dbt.datediff('previous_active_date', 'order_date', 'day') }} >= {{ churn_days }}
                    then order_date
            end
        ) as last_reactivation_date
    from active_days
    group by customer_id
),

channel_counts as (
    select
        customer_id,
        coalesce(channel, 'unknown') as channel,
        count(*) as order_count,
        sum(amount) as spend
    from orders_as_of
    group by customer_id, coalesce(channel, 'unknown')
),

preferred_channels as (
    select
        customer_id,
        channel as preferred_channel
    from (
        select
            customer_id,
            channel,
            row_number() over (
                partition by customer_id
                order by order_count desc, spend desc, channel asc
            ) as channel_rank
        from channel_counts
    ) as ranked
    where channel_rank = 1
),

order_stats as (
    select
        customer_id,
        count(*) as order_count,
        sum(amount) as gross_spend,
        sum(discount_amount) as discount_amount,
        sum(case when is_discounted then 1 else 0 end) as discounted_order_count,
        sum(case when channel_group = 'online' then 1 else 0 end) as online_order_count,
        sum(case when channel_group = 'offline' then 1 else 0 end) as store_order_count,
        {%- if rfm_window_days %}
        sum(
            case
                when order_date > {{ dbt.dateadd('day', -1 * (rfm_window_days | int), 'as_of_date') }} then 1 else 0
            end
        ) as rfm_order_count,
        coalesce(sum(
            case
                when order_date > {{ dbt.dateadd('day', -1 * (rfm_window_days | int), 'as_of_date') }} then amount
            end
        ), 0) as rfm_spend,
        {%- else %}
            count(*) as rfm_order_count,
            sum(amount) as rfm_spend,
        {%- endif %}
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        min(ordered_at) as first_ordered_at,
        max(ordered_at) as last_ordered_at
    from orders_as_of
    group by customer_id
),

final as (
    select
        order_stats.customer_id,
        preferred_channels.preferred_channel,
        order_stats.order_count,
        customer_active_days.active_days,
        order_stats.online_order_count,
        order_stats.store_order_count,
        order_stats.discounted_order_count,
        order_stats.gross_spend,
        coalesce(customer_refunds.refunded_amount, 0) as refunded_amount,
        order_stats.gross_spend - coalesce(customer_refunds.refunded_amount, 0) as net_spend,
        order_stats.discount_amount,
        coalesce(customer_refunds.refund_count, 0) as refund_count,
        coalesce(customer_refunds.refunded_order_count, 0) as refunded_order_count,
        order_stats.rfm_order_count,
        order_stats.rfm_spend,
        order_stats.first_order_date,
        order_stats.last_order_date,
        customer_active_days.last_reactivation_date,
        order_stats.first_ordered_at,
        order_stats.last_ordered_at
    from order_stats
    inner join customer_active_days
        on order_stats.customer_id = customer_active_days.customer_id
    inner join preferred_channels
        on order_stats.customer_id = preferred_channels.customer_id
    left join customer_refunds
        on order_stats.customer_id = customer_refunds.customer_id
)

select * from final
