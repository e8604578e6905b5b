{#- Association rules between products: which products are bought together in one basket
    (macros/baskets/association_rules.sql). Thresholds: vars baskets.min_support and
    baskets.min_confidence. Mined as of int_basket_mining_inputs' mining date, and held
    until the basket items change (macros/materializations/held_table.sql). -#}
{{ config(materialized=held_materialization()) }}

with

basket_items as (
    select
        order_id as basket_id,
        product_id as item
    from {{ ref('int_basket_items_kept') }}
),

{{ association_rules('basket_items', var('baskets.min_support'), var('baskets.min_confidence')) }},

mining_window as (
    select * from {{ ref('int_basket_mining_inputs') }}
),

final as (
    select
        rules.antecedent_item,
        rules.second_antecedent_item,
        rules.consequent_item,
        rules.antecedent_size,
        rules.total_basket_count,
        rules.basket_count,
        rules.antecedent_basket_count,
        rules.consequent_basket_count,
        rules.support,
        rules.antecedent_support,
        rules.consequent_support,
        rules.confidence,
        rules.lift,
        rules.leverage,
        rules.conviction,
        mining_window.mined_as_of_date
    from rules
    cross join mining_window
)

select * from final
