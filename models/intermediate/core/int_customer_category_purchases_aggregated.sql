{#- Spend and items per customer and product category as of as_of_date, from staged
    order lines; lines of products missing from the catalogue count as
    'uncategorised'. Kept apart from the ranking in int_customer_categories_aggregated:
    at 10M customers (61.7M customer-category rows) DuckDB ran out of memory at 10GB
    holding this aggregate and the ranking's window in one statement. The lines join the
    materialised int_orders_enriched, not the int_orders_unioned view: through the view
    the join also holds the identity resolution's and the union's hash tables, and needs
    about three times the memory (DECISIONLOG.md, "Categories are summed and ranked in two
    models"). -#}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
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
)

select * from final
