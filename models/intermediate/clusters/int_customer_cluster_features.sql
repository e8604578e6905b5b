{#- The behavioural features the clusters are found in, one row per purchaser as of
    as_of_date (the candidates are var cluster_features). Counts and money are
    log-transformed (ln(1 + value)) so that a few very large customers do not dominate;
    shares stay in 0-1. A feature whose source is missing (no order lines: no category
    mix; no store transactions: no store share) is null or constant for everyone and is
    dropped by the model (segment_warehouse.clustering.usable_features). -#}
with

customers as (
    select * from {{ ref('dim_customers') }}
),

order_patterns as (
    select * from {{ ref('int_customer_order_patterns_aggregated') }}
),

categories as (
    select * from {{ ref('int_customer_categories_aggregated') }}
),

final as (
    select
        customers.customer_id,
        ln(1 + customers.days_since_last_order) as log_days_since_last_order,
        ln(1 + customers.order_count) as log_order_count,
        ln(1 + greatest(cast(customers.net_spend as {{ type_ratio() }}), 0)) as log_net_spend,
        ln(1 + customers.days_since_first_order) as log_tenure_days,
        ln(1 + greatest(cast(customers.average_order_value as {{ type_ratio() }}), 0))
            as log_average_order_value,
        cast(customers.discounted_order_count as {{ type_ratio() }}) / customers.order_count
            as discount_order_share,
        cast(customers.refunded_order_count as {{ type_ratio() }}) / customers.order_count
            as refunded_order_share,
        cast(order_patterns.holiday_order_count as {{ type_ratio() }}) / order_patterns.order_count
            as holiday_order_share,
        cast(customers.store_order_count as {{ type_ratio() }}) / customers.order_count as store_order_share,
        cast(categories.top_category_spend_share as {{ type_ratio() }}) as top_category_spend_share,
        customers.as_of_date
    from customers
    left join order_patterns
        on customers.customer_id = order_patterns.customer_id
    left join categories
        on customers.customer_id = categories.customer_id
    where customers.has_purchased
)

select * from final
