{#- Product categories bought per customer as of as_of_date: how many, and the one with
    the highest spend (ties: more items, then the name) with its share of the customer's
    line spend. Needs order lines; lines of products missing from the catalogue count as
    'uncategorised'. -#}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

customer_category_spend as (
    select
        orders.customer_id,
        coalesce(products.category, 'uncategorised') as category,
        sum(order_lines.line_amount) as spend,
        sum(order_lines.quantity) as item_quantity
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    cross join as_of
    left join products
        on order_lines.product_id = products.product_id
    where orders.ordered_at < as_of.as_of_end_at
    group by orders.customer_id, coalesce(products.category, 'uncategorised')
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
