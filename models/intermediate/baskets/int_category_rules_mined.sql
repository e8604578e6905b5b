{#- Association rules between product categories: which categories are bought together in
    one basket (macros/baskets/association_rules.sql). A basket holds a category once,
    however many of its products it holds; baskets with the same categories are mined
    once, weighted by their number. Thresholds: vars baskets.min_support and
    baskets.min_confidence. Mined from the basket items as of the mining date, and held
    until they change (macros/materializations/held_table.sql). -#}
{{ config(materialized=held_materialization()) }}

with

basket_items_kept as (
    select * from {{ ref('int_basket_items_kept') }}
),

{# Baskets hold a few of a few dozen categories, so millions of baskets hold far fewer
    distinct category sets: each set is mined once, weighted by its number of baskets,
    which gives the same rules at a fraction of the join. A basket's set is two 63-bit
    masks of its categories' codes; a basket with a category coded 126 or above (a
    catalogue with more categories) is its own set, so the result stays exact. #}
category_codes as (
    select
        category,
        row_number() over (order by category) - 1 as category_code
    from (select distinct category from basket_items_kept) as categories
),

basket_sets as (
    select
        basket_items_kept.order_id as basket_id,
        bit_or(
            case
                when category_codes.category_code < 63
                    then {{ bit_flag('category_codes.category_code') }}
                else 0
            end
        ) as low_categories_mask,
        bit_or(
            case
                when category_codes.category_code >= 63 and category_codes.category_code < 126
                    then {{ bit_flag('category_codes.category_code - 63') }}
                else 0
            end
        ) as high_categories_mask,
        max(case when category_codes.category_code >= 126 then basket_items_kept.order_id end) as lone_basket_id
    from basket_items_kept
    inner join category_codes
        on basket_items_kept.category = category_codes.category
    group by basket_items_kept.order_id
),

category_sets as (
    select
        min(basket_id) as basket_id,
        count(*) as basket_weight
    from basket_sets
    group by low_categories_mask, high_categories_mask, lone_basket_id
),

basket_items as (
    select distinct
        category_sets.basket_id,
        basket_items_kept.category as item,
        category_sets.basket_weight
    from category_sets
    inner join basket_items_kept
        on category_sets.basket_id = basket_items_kept.order_id
),

{{ association_rules('basket_items', var('baskets.min_support'), var('baskets.min_confidence'), basket_weight='basket_weight') }},

final as (
    select * from rules
)

select * from final
