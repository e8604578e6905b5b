{#- One row per customer and day with a purchase, over all orders (before and after
    as_of_date): purchases on the same day are one transaction in the lifetime-value
    models. Shared by the CLV summary, the churn features and the backtest, which each
    keep the days they need. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
    -- the placeholder of erased people is not a customer to model
    where not coalesce(customer_id = {{ erased_customer_id() }}, false)
),

final as (
    select
        customer_id,
        order_date,
        sum(amount) as day_amount,
        count(*) as day_orders,
        sum(case when is_discounted then 1 else 0 end) as day_discounted_orders,
        sum(case when channel_group = 'online' then 1 else 0 end) as day_online_orders
    from orders
    group by customer_id, order_date
)

select * from final
