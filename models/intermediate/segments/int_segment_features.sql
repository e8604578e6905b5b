{#- Everything the segment registry's rules and reasons may use: one row per customer of
    dim_customers who may be profiled (int_customers_segmentable) as of as_of_date. Shares and percentiles are rounded to three decimals
    so that a rule and the reason quoting it see the same number. Percentiles rank
    purchasers only (0 = lowest, 1 = highest; ties share a value); prospects have none. -#}
with

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

segmentable as (
    select * from {{ ref('int_customers_segmentable') }}
),

rfm as (
    select * from {{ ref('int_customer_rfm_scored') }}
),

order_patterns as (
    select * from {{ ref('int_customer_order_patterns_aggregated') }}
),

experiences as (
    select * from {{ ref('int_customer_experiences_aggregated') }}
),

categories as (
    select * from {{ ref('int_customer_categories_aggregated') }}
),

clusters as (
    select * from {{ ref('int_customer_clusters_assigned') }}
),

clv_predictions as (
    select * from {{ ref('int_customer_clv_predicted') }}
),

churn_scores as (
    select * from {{ ref('int_customer_churn_scored') }}
),

{# Only people who may be profiled: an objector to profiling is neither scored nor
    counted in anyone else's ranks. #}
customers as (
    select customers_profiled.*
    from customers_profiled
    inner join segmentable
        on customers_profiled.customer_id = segmentable.customer_id
),

clv_percentiles as (
    select
        customer_id,
        predicted_clv,
        percent_rank() over (order by predicted_clv) as clv_percent_rank
    from clv_predictions
    where
        predicted_clv is not null
        and customer_id in (select segmentable.customer_id from segmentable)
),

purchaser_percentiles as (
    select
        customer_id,
        percent_rank() over (order by net_spend) as spend_percent_rank,
        percent_rank() over (order by order_count) as frequency_percent_rank
    from customers
    where has_purchased
),

final as (
    select
        customers.customer_id,
        customers.gender,
        customers.country_code,
        customers.region,
        customers.language_code,
        customers.locale,
        customers.primary_device_type,
        customers.primary_operating_system,
        customers.company_industry,
        cast(churn_scores.churn_model as {{ dbt.type_string() }}) as churn_model,
        cast(churn_scores.churn_drivers as {{ dbt.type_string() }}) as churn_drivers,
        -- the customer view names a missing channel 'unknown'; the channel family says so
        -- itself (its Unknown segment), so the sentinel is not a channel here
        nullif(customers.preferred_channel, 'unknown') as preferred_channel,
        customers.top_category,
        order_patterns.dominant_daypart,
        rfm.rfm_cell,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        customers.age_years,
        customers.company_size,
        customers.order_count,
        customers.online_order_count,
        customers.store_order_count,
        customers.session_count,
        customers.feedback_count,
        customers.category_count,
        coalesce(order_patterns.timed_order_count, 0) as timed_order_count,
        coalesce(order_patterns.discount_known_order_count, 0) as discount_known_order_count,
        coalesce(order_patterns.channel_known_order_count, 0) as channel_known_order_count,
        customers.days_since_first_order,
        customers.days_since_last_order,
        customers.days_since_last_reactivation,
        coalesce(experiences.positive_experience_count, 0) as positive_experience_count,
        coalesce(experiences.charmed_experience_count, 0) as charmed_experience_count,
        {{ dbt.datediff(
            'cast(experiences.last_positive_experience_at as date)', 'customers.as_of_date', 'day'
        ) }} as days_since_last_positive_experience,
        cast(customers.net_spend as decimal(18, 2)) as net_spend,
        cast(round(purchaser_percentiles.spend_percent_rank, 3) as decimal(7, 3)) as spend_percentile,
        cast(round(purchaser_percentiles.frequency_percent_rank, 3) as decimal(7, 3)) as frequency_percentile,
        {{ share_value('customers.discounted_order_count', 'customers.order_count') }} as discount_order_share,
        {{ share_value('order_patterns.discount_amount', 'order_patterns.list_price_amount') }}
            as discount_spend_share,
        {{ share_value('customers.refunded_order_count', 'customers.order_count') }} as refunded_order_share,
        {{ share_value('order_patterns.holiday_order_count', 'order_patterns.order_count') }} as holiday_order_share,
        {{ share_value('order_patterns.summer_order_count', 'order_patterns.order_count') }} as summer_order_share,
        {{ share_value('order_patterns.weekend_order_count', 'order_patterns.order_count') }} as weekend_order_share,
        {{ share_value('order_patterns.dominant_daypart_order_count', 'order_patterns.timed_order_count') }}
            as dominant_daypart_share,
        cast(round(categories.top_category_spend_share, 3) as decimal(7, 3)) as top_category_spend_share,
        clusters.cluster_id,
        clusters.cluster_label,
        cast(round(clusters.squared_distance, 3) as decimal(18, 3)) as cluster_squared_distance,
        cast(round(clv_predictions.p_alive, 3) as decimal(7, 3)) as p_alive,
        cast(round(clv_percentiles.predicted_clv, 2) as decimal(18, 2)) as predicted_clv,
        cast(round(clv_percentiles.clv_percent_rank, 3) as decimal(7, 3)) as clv_percentile,
        cast(round(churn_scores.churn_score, 3) as decimal(7, 3)) as churn_score,
        customers.has_purchased,
        customers.is_business,
        customers.has_any_marketing_consent,
        customers.as_of_date
    from customers
    left join rfm
        on customers.customer_id = rfm.customer_id
    left join order_patterns
        on customers.customer_id = order_patterns.customer_id
    left join experiences
        on customers.customer_id = experiences.customer_id
    left join categories
        on customers.customer_id = categories.customer_id
    left join purchaser_percentiles
        on customers.customer_id = purchaser_percentiles.customer_id
    left join clusters
        on customers.customer_id = clusters.customer_id
    left join clv_predictions
        on customers.customer_id = clv_predictions.customer_id
    left join clv_percentiles
        on customers.customer_id = clv_percentiles.customer_id
    left join churn_scores
        on customers.customer_id = churn_scores.customer_id
)

select * from final
