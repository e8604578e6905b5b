{#- The behavioural features the clusters are found in, one row per purchaser as of
    as_of_date (the model uses var clusters.features). Each is transformed so that a
    customer's distance to a cluster measures behaviour, not noise or a few extremes:
    - recency as the square root of the days since the last order, capped at
      clusters.recency_cap_days: the root keeps a regular buyer's last weeks from spreading
      out as a log would, and beyond the cap lapsed is lapsed;
    - the share of the tenure since the last order (1 for a single order), which tells a
      customer who stopped from one who buys steadily whatever their age;
    - counts and money as ln(1 + value), channel mix as separate counts of store and other
      orders (three corners: online only, omnichannel, store only);
    - order shares (discounted, refunded, holiday) smoothed towards the population's share
      by clusters.share_prior_orders pseudo-orders: one order says little about a habit.
    A feature whose source is missing (no order lines: no category mix; no store
    transactions: no store orders) is null or constant for everyone and is dropped by the
    model (segment_warehouse.modelling.clustering.usable_features). -#}
{%- set recency_cap_days = var('clusters.recency_cap_days') -%}
{%- set prior_orders = var('clusters.share_prior_orders') -%}

with

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

segmentable as (
    select * from {{ ref('int_customers_segmentable') }}
),

order_patterns as (
    select * from {{ ref('int_customer_order_patterns_aggregated') }}
),

categories as (
    select * from {{ ref('int_customer_categories_aggregated') }}
),

{# Only people who may be profiled: an objector to profiling is neither scored nor
    counted in anyone else's ranks. #}
customers as (
    select customers_profiled.*
    from customers_profiled
    inner join segmentable
        on customers_profiled.customer_id = segmentable.customer_id
),

purchasers as (
    select
        customers.customer_id,
        customers.days_since_last_order,
        customers.days_since_first_order,
        customers.order_count,
        customers.store_order_count,
        customers.discounted_order_count,
        customers.refunded_order_count,
        order_patterns.order_count as pattern_order_count,
        order_patterns.holiday_order_count,
        cast(customers.net_spend as {{ type_ratio() }}) as net_spend,
        cast(customers.average_order_value as {{ type_ratio() }}) as average_order_value,
        cast(categories.top_category_spend_share as {{ type_ratio() }}) as top_category_spend_share,
        customers.as_of_date
    from customers
    left join order_patterns
        on customers.customer_id = order_patterns.customer_id
    left join categories
        on customers.customer_id = categories.customer_id
    where customers.has_purchased
),

population_shares as (
    select
        cast(sum(discounted_order_count) as {{ type_ratio() }}) / sum(order_count) as discount_order_share,
        cast(sum(refunded_order_count) as {{ type_ratio() }}) / sum(order_count) as refunded_order_share,
        cast(sum(holiday_order_count) as {{ type_ratio() }}) / sum(pattern_order_count) as holiday_order_share
    from purchasers
),

final as (
    select
        purchasers.customer_id,
        sqrt(
            cast(least(purchasers.days_since_last_order, {{ recency_cap_days }}) as {{ type_ratio() }})
        ) as sqrt_days_since_last_order,
        case
            when purchasers.days_since_first_order > 0
                then
                    cast(purchasers.days_since_last_order as {{ type_ratio() }})
                    / purchasers.days_since_first_order
            else 0
        end as inactive_tenure_share,
        ln(1 + purchasers.order_count - purchasers.store_order_count) as log_non_store_order_count,
        ln(1 + purchasers.store_order_count) as log_store_order_count,
        ln(1 + greatest(purchasers.average_order_value, 0)) as log_average_order_value,
        ln(1 + purchasers.days_since_first_order) as log_tenure_days,
        ln(1 + greatest(purchasers.net_spend, 0)) as log_net_spend,
        (purchasers.discounted_order_count + {{ prior_orders }} * population_shares.discount_order_share)
        / (purchasers.order_count + {{ prior_orders }}) as smoothed_discount_order_share,
        (purchasers.refunded_order_count + {{ prior_orders }} * population_shares.refunded_order_share)
        / (purchasers.order_count + {{ prior_orders }}) as smoothed_refunded_order_share,
        (purchasers.holiday_order_count + {{ prior_orders }} * population_shares.holiday_order_share)
        / (purchasers.pattern_order_count + {{ prior_orders }}) as smoothed_holiday_order_share,
        purchasers.top_category_spend_share,
        purchasers.as_of_date
    from purchasers
    cross join population_shares
)

select * from final
