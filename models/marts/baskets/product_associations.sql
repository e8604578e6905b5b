{#- The product association rules, published: "baskets with the antecedent also hold
    the consequent". One or two antecedent products, one consequent. -#}
with

rules as (
    select * from {{ ref('int_product_rules_mined') }}
),

final as (
    select
        antecedent_item as antecedent_product_id,
        second_antecedent_item as second_antecedent_product_id,
        consequent_item as consequent_product_id,
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
