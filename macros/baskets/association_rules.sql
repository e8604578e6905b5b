{#- Association rules over baskets, as CTEs ending in `rules`: `items` is a relation (or
    CTE) of distinct (basket_id, item) rows. Apriori by levels, pruned before each join so
    the pair and triple explosions never materialise beyond the frequent items:
    frequent items (support >= min_support), pairs of frequent items within a basket,
    frequent pairs, triples whose three pairs are all frequent (the Apriori property),
    frequent triples. Support is the share of baskets, compared as a double as the
    reference implementation does. Rules have one consequent item and one or two
    antecedent items: every frequent pair gives two, every frequent triple three; a rule
    is kept when its confidence >= min_confidence. Conviction is null when confidence is
    1 (infinite).

    `basket_weight`, when given, names a column of `items` holding how many baskets each
    basket_id stands for (the same on all its rows): a relation of distinct item sets
    with their basket counts gives the rules of the baskets it summarises. -#}
{% macro association_rules(items, min_support, min_confidence, basket_weight=none) -%}
{%- set weighted = basket_weight is not none -%}
{#- how many baskets a group of rows stands for: its rows, or the sum of their weights -#}
{%- set basket_count = 'cast(sum({}) as ' ~ dbt.type_bigint() ~ ')' if weighted else 'count(*)' -%}

basket_total as (
    {%- if weighted %}
    select {{ basket_count.format(basket_weight) }} as basket_count
    from (select distinct basket_id, {{ basket_weight }} from {{ items }}) as baskets
    {%- else %}
    select count(distinct basket_id) as basket_count
    from {{ items }}
    {%- endif %}
),

item_counts as (
    select
        item,
        {{ basket_count.format(basket_weight) }} as basket_count
    from {{ items }}
    group by item
),

frequent_items as (
    select
        item_counts.item,
        item_counts.basket_count,
        cast(item_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count as support
    from item_counts
    cross join basket_total
    where cast(item_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count >= {{ min_support }}
),

frequent_item_rows as (
    select
        basket_items.basket_id,
        basket_items.item
        {%- if weighted %},
        basket_items.{{ basket_weight }} as basket_weight
        {%- endif %}
    from {{ items }} as basket_items
    inner join frequent_items
        on basket_items.item = frequent_items.item
),

pair_counts as (
    select
        first_item.item as item_1,
        second_item.item as item_2,
        {{ basket_count.format('first_item.basket_weight') }} as basket_count
    from frequent_item_rows as first_item
    inner join frequent_item_rows as second_item
        on
            first_item.basket_id = second_item.basket_id
            and first_item.item < second_item.item
    group by first_item.item, second_item.item
),

frequent_pairs as (
    select
        pair_counts.item_1,
        pair_counts.item_2,
        pair_counts.basket_count,
        cast(pair_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count as support
    from pair_counts
    cross join basket_total
    where cast(pair_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count >= {{ min_support }}
),

{#- only baskets holding a frequent pair can hold a frequent triple -#}
basket_frequent_pairs as (
    select
        first_item.basket_id,
        {%- if weighted %}
        first_item.basket_weight,
        {%- endif %}
        first_item.item as item_1,
        second_item.item as item_2
    from frequent_item_rows as first_item
    inner join frequent_item_rows as second_item
        on
            first_item.basket_id = second_item.basket_id
            and first_item.item < second_item.item
    inner join frequent_pairs
        on
            first_item.item = frequent_pairs.item_1
            and second_item.item = frequent_pairs.item_2
),

triple_counts as (
    select
        basket_frequent_pairs.item_1,
        basket_frequent_pairs.item_2,
        third_item.item as item_3,
        {{ basket_count.format('basket_frequent_pairs.basket_weight') }} as basket_count
    from basket_frequent_pairs
    inner join frequent_item_rows as third_item
        on
            basket_frequent_pairs.basket_id = third_item.basket_id
            and basket_frequent_pairs.item_2 < third_item.item
    inner join frequent_pairs as first_third
        on
            basket_frequent_pairs.item_1 = first_third.item_1
            and third_item.item = first_third.item_2
    inner join frequent_pairs as second_third
        on
            basket_frequent_pairs.item_2 = second_third.item_1
            and third_item.item = second_third.item_2
    group by basket_frequent_pairs.item_1, basket_frequent_pairs.item_2, third_item.item
),

frequent_triples as (
    select
        triple_counts.item_1,
        triple_counts.item_2,
        triple_counts.item_3,
        triple_counts.basket_count,
        cast(triple_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count as support
    from triple_counts
    cross join basket_total
    where cast(triple_counts.basket_count as {{ type_ratio() }}) / basket_total.basket_count >= {{ min_support }}
),

{#- every rule: its itemset's support, its antecedent's (an item or a pair) and its
    consequent's; antecedent items in ascending order -#}
rule_candidates as (
    select
        item_1 as antecedent_item,
        cast(null as {{ dbt.type_string() }}) as second_antecedent_item,
        item_2 as consequent_item,
        basket_count,
        support
    from frequent_pairs
    union all
    select item_2, null, item_1, basket_count, support
    from frequent_pairs
    union all
    select item_1, item_2, item_3, basket_count, support
    from frequent_triples
    union all
    select item_1, item_3, item_2, basket_count, support
    from frequent_triples
    union all
    select item_2, item_3, item_1, basket_count, support
    from frequent_triples
),

measured as (
    select
        rule_candidates.antecedent_item,
        rule_candidates.second_antecedent_item,
        rule_candidates.consequent_item,
        basket_total.basket_count as total_basket_count,
        rule_candidates.basket_count,
        coalesce(antecedent_pair.basket_count, antecedent.basket_count) as antecedent_basket_count,
        consequent.basket_count as consequent_basket_count,
        rule_candidates.support,
        coalesce(antecedent_pair.support, antecedent.support) as antecedent_support,
        consequent.support as consequent_support,
        rule_candidates.support / coalesce(antecedent_pair.support, antecedent.support) as confidence
    from rule_candidates
    cross join basket_total
    inner join frequent_items as antecedent
        on rule_candidates.antecedent_item = antecedent.item
    left join frequent_pairs as antecedent_pair
        on
            rule_candidates.antecedent_item = antecedent_pair.item_1
            and rule_candidates.second_antecedent_item = antecedent_pair.item_2
    inner join frequent_items as consequent
        on rule_candidates.consequent_item = consequent.item
),

rules as (
    select
        antecedent_item,
        second_antecedent_item,
        consequent_item,
        case when second_antecedent_item is null then 1 else 2 end as antecedent_size,
        total_basket_count,
        basket_count,
        antecedent_basket_count,
        consequent_basket_count,
        support,
        antecedent_support,
        consequent_support,
        confidence,
        confidence / consequent_support as lift,
        support - antecedent_support * consequent_support as leverage,
        case
            when confidence < 1 then (1 - consequent_support) / (1 - confidence)
        end as conviction
    from measured
    where confidence >= {{ min_confidence }}
)

{%- endmacro %}
