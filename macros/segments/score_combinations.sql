{#- A query returning every combination of recency, frequency and monetary scores
    1..levels (125 rows for five levels). -#}
{% macro score_combinations(levels=5) -%}
    {%- set scores -%}
        (
            {%- for score in range(1, levels + 1) %}
                select {{ score }} as score
                {%- if not loop.last %} union all{% endif %}
            {%- endfor %}
        )
    {%- endset -%}
    select
        recency.score as recency_score,
        frequency.score as frequency_score,
        monetary.score as monetary_score
    from {{ scores }} as recency
    cross join {{ scores }} as frequency
    cross join {{ scores }} as monetary
{%- endmacro %}
