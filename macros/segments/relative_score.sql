{#- A 1-5 score from a rank: 1 + floor(5 x share of the population ranked strictly
    below). rank() gives tied values the same rank, so equal values always get equal
    scores and the result never depends on row order or ids. Rank the worst value first. -#}
{% macro relative_score(rank_column, population_column, levels=5) -%}
    cast(
        1 + floor({{ levels }}.0 * ({{ rank_column }} - 1) / {{ population_column }})
        as {{ dbt.type_int() }}
    )
{%- endmacro %}
