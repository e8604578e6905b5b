{#- Association rules between product categories: which categories are bought together in
    one basket (macros/baskets/association_rules.sql). A basket holds a category once,
    however many of its products it holds. Thresholds: vars baskets.min_support and
    baskets.min_confidence. -#}
with

basket_items as (
    select distinct
        order_id as basket_id,
        category as item
    from {{ ref('int_basket_items_kept') }}
),

{{ association_rules('basket_items', var('baskets.min_support'), var('baskets.min_confidence')) }},

final as (
    select * from rules
)

select * from final
