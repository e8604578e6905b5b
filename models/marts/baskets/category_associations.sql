{#- The category association rules, published: "baskets with the antecedent also hold
    the consequent". One or two antecedent categories, one consequent. -#}
with

rules as (
    select * from {{ ref('int_category_rules_mined') }}
),

mining_window as (
    select * from {{ ref('int_basket_mining_inputs') }}
),

final as (
    select
        rules.antecedent_item as antecedent_category,
        rules.second_antecedent_item as second_antecedent_category,
        rules.consequent_item as consequent_category,
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
