{#- Product categories bought per customer as of as_of_date: how many, and the one with
    the highest spend (ties: more items, then the name) with its share of the customer's
    line spend, ranked from int_customer_category_purchases_aggregated. -#}
with

customer_category_spend as (
    select * from {{ ref('int_customer_category_purchases_aggregated') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id
            order by spend desc, item_quantity desc, category asc
        ) as category_rank,
        count(*) over (partition by customer_id) as category_count,
        sum(spend) over (partition by customer_id) as total_spend
    from customer_category_spend
),

final as (
    select
        customer_id,
        category as top_category,
        category_count,
        case
            when total_spend > 0 then cast(spend as {{ type_ratio() }}) / total_spend
        end as top_category_spend_share
    from ranked
    where category_rank = 1
)

select * from final
