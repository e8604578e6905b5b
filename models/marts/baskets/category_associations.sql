{#- The category association rules, published: "baskets with the antecedent also hold
    the consequent". One or two antecedent categories, one consequent. -#}
with

rules as (
    select * from {{ ref('int_category_rules_mined') }}
),

final as (
    select
        antecedent_item as antecedent_category,
        second_antecedent_item as second_antecedent_category,
        consequent_item as consequent_category,
        antecedent_size,
        total_basket_count,
        basket_count,
        antecedent_basket_count,
        consequent_basket_count,
        support,
        antecedent_support,
        consequent_support,
        confidence,
        lift,
        leverage,
        conviction,
        mined_as_of_date
    from rules
)

select * from final
