{#- One row per basket and product: the products each shop order kept as of the mining
    date (int_basket_mining_inputs: the latest refit date on or before as_of_date). A
    basket is one shop order placed by then; a product is in it when at least one of its
    lines in the order was not returned by then (a line with a return on or before the
    mining date is taken back, so it does not count as bought together with the rest).
    Refunds without a line (order-level) take nothing back. A product bought on several
    lines of one order counts once: a basket is a set. Store transactions carry no lines
    and are not baskets. Lines of products missing from the catalogue keep their product
    id; their category is 'uncategorised', as in the category spend.

    Held (macros/materializations/held_table.sql): built again only when the mining date
    or a row it reads changed, which int_basket_mining_inputs fingerprints. So it carries
    nothing that changes without its inputs changing, such as the resolved customer id. -#}
{{ config(materialized=held_materialization(), held_inputs='int_basket_mining_inputs') }}

with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

mining_window as (
    select * from {{ ref('int_basket_mining_inputs') }}
),

returned_lines as (
    select distinct returns.order_line_id
    from returns
    cross join mining_window
    where
        returns.order_line_id is not null
        and returns.returned_at < mining_window.mined_as_of_end_at
),

kept_lines as (
    select
        order_lines.order_id,
        order_lines.product_id,
        coalesce(products.category, 'uncategorised') as category
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    cross join mining_window
    left join returned_lines
        on order_lines.order_line_id = returned_lines.order_line_id
    left join products
        on order_lines.product_id = products.product_id
    where
        orders.ordered_at < mining_window.mined_as_of_end_at
        and returned_lines.order_line_id is null
),

final as (
    select distinct
        order_id,
        product_id,
        category
    from kept_lines
)

select * from final
