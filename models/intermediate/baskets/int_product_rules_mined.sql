{#- Association rules between products: which products are bought together in one basket
    (macros/baskets/association_rules.sql). Thresholds: vars baskets.min_support and
    baskets.min_confidence. Mined from the basket items as of the mining date, and held
    until they change (macros/materializations/held_table.sql). -#}
{{ config(materialized=held_materialization()) }}

with

basket_items as (
    select
        order_id as basket_id,
        product_id as item
    from {{ ref('int_basket_items_kept') }}
),

{{ association_rules('basket_items', var('baskets.min_support'), var('baskets.min_confidence')) }},

final as (
    select * from rules
)

select * from final
