{#- Recency, frequency and monetary scores (1-5) of every purchaser as of as_of_date,
    and the RFM segment they map to by the rfm family of the segment registry; published
    by customer_rfm, read by int_segment_features. Scores are relative to all purchasers: 1 + floor(5 x share of purchasers with a strictly worse value), so
    ties share a score. Customers without a purchase are 'Prospect' with no scores. -#}
with

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

segmentable as (
    select * from {{ ref('int_customers_segmentable') }}
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
        customer_id,
        days_since_last_order,
        rfm_order_count,
        rfm_spend
    from customers
    where has_purchased
),

ranked as (
    select
        *,
        rank() over (order by days_since_last_order desc) as recency_rank,
        rank() over (order by rfm_order_count) as frequency_rank,
        rank() over (order by rfm_spend) as monetary_rank,
        count(*) over () as purchaser_count
    from purchasers
),

scored as (
    select
        customer_id,
        {{ relative_score('recency_rank', 'purchaser_count') }} as recency_score,
        {{ relative_score('frequency_rank', 'purchaser_count') }} as frequency_score,
        {{ relative_score('monetary_rank', 'purchaser_count') }} as monetary_score
    from ranked
),

final as (
    select
        customers.customer_id,
        {{ segment_case('rfm') }} as rfm_segment,
        cast(scored.recency_score as {{ dbt.type_string() }})
        || cast(scored.frequency_score as {{ dbt.type_string() }})
        || cast(scored.monetary_score as {{ dbt.type_string() }}) as rfm_cell,
        scored.recency_score,
        scored.frequency_score,
        scored.monetary_score,
        customers.days_since_last_order,
        customers.rfm_order_count,
        customers.rfm_spend,
        customers.as_of_date
    from customers
    left join scored
        on customers.customer_id = scored.customer_id
)

select * from final
