{#- The quasi-identifiers the published file shows for each person, generalised so that
    every combination of them covers at least k people (var privacy.min_group_size).

    The warehouse keeps exact values; the publisher (segment_warehouse/pipeline/
    public_models.py) replaces each public column tagged `meta: {quasi_identifier: <col>}`
    by column <col> of this model, so every published quasi-identifier is a function of
    one person's row here and no join of published tables splits a group below k.

    Attribute groups are withheld in a fixed order, the ladder (`withheld_from` = the
    first level without them): region; then country, locale and language; then company;
    then gender; then the age band. Level 1 shows everything; a person gets the first
    level at which the people still unplaced who share their shown values number at
    least k. Those unplaced at level 5 form the fully withheld group (level 6). When it
    has between 1 and k - 1 people, whole published groups join it, smallest first (ties:
    the coarser level, then the group's values), until it reaches k: moving a whole group
    leaves no group behind below k. Only a population below k ends with one group below
    k (everyone withheld). A withheld text shows var privacy.withheld_label, a withheld
    boolean null. Whether a person has a row in customer_segments is published too (a
    person left out of it shows no segment values), so it splits every group and the
    ladder runs within each of the two populations; a population below k ends as one
    withheld group below k. -#}
{%- set k = var('privacy.min_group_size') | int -%}
{%- set withheld = var('privacy.withheld_label') -%}
{%- set attribute_groups = [
    {'withheld_from': 2, 'columns': ['region', 'region_segment']},
    {'withheld_from': 3, 'columns': [
        'country_code', 'country_name', 'country_segment',
        'locale', 'language_code', 'language_segment',
    ]},
    {'withheld_from': 4, 'columns': [
        'company_industry', 'industry_segment', 'company_size_segment', 'is_business',
    ]},
    {'withheld_from': 5, 'columns': ['gender', 'gender_segment']},
    {'withheld_from': 6, 'columns': ['age_band_segment']},
] -%}
{%- set boolean_columns = ['is_business'] -%}
{%- set last_level = 6 -%}
{%- set all_columns = [] -%}
{%- set withheld_from = {} -%}
{%- set otherwise = {} -%}
{%- for group in attribute_groups -%}
    {%- do all_columns.extend(group.columns) -%}
    {%- for column in group.columns -%}
        {%- do withheld_from.update({column: group.withheld_from}) -%}
        {%- do otherwise.update({column: '' if column in boolean_columns else " else '" ~ withheld ~ "'"}) -%}
    {%- endfor -%}
{%- endfor -%}

with

customers as (
    select * from {{ ref('dim_customers') }}
),

segments as (
    select * from {{ ref('customer_segments') }}
),

people as (
    select
        coalesce(customers.customer_id, segments.customer_id) as customer_id,
        customers.gender,
        customers.country_code,
        customers.country_name,
        customers.region,
        customers.locale,
        customers.language_code,
        customers.company_industry,
        customers.is_business,
        segments.age_band_segment,
        segments.gender_segment,
        segments.country_segment,
        segments.region_segment,
        segments.language_segment,
        segments.industry_segment,
        segments.company_size_segment,
        segments.customer_id is not null as is_in_customer_segments
    from customers
    full outer join segments
        on customers.customer_id = segments.customer_id
),

{%- set previous = namespace(name='people') %}
{%- for level in range(1, last_level + 1) %}
    {%- set kept = ['is_in_customer_segments'] -%}
    {%- for group in attribute_groups if group.withheld_from > level -%}
        {%- do kept.extend(group.columns) -%}
    {%- endfor %}

    placed_at_level_{{ level }} as (
        select
            {{ previous.name }}.*,
            {%- if level == 1 %}
                case when count(*) over (partition by {{ kept | join(', ') }}) >= {{ k }} then 1 end as placed_level_1
            {%- else %}
                coalesce(
                    placed_level_{{ level - 1 }},
                    case
                        when count(*) over (partition by placed_level_{{ level - 1 }} is null, {{ kept | join(', ') }}) >= {{ k }}
                            then {{ level }}
                    end
                ) as placed_level_{{ level }}
            {%- endif %}
        from {{ previous.name }}
    ),
    {%- set previous.name = 'placed_at_level_' ~ level %}
{%- endfor %}

placed as (
    select
        customer_id,
        is_in_customer_segments,
        {{ all_columns | join(',\n        ') }},
        coalesce(placed_level_{{ last_level }}, {{ last_level }}) as placed_level,
        case when placed_level_{{ last_level }} is null then 1 else 0 end as is_unplaced
    from {{ previous.name }}
),

published_values as (
    select
        customer_id,
        is_in_customer_segments,
        placed_level,
        {%- for column in all_columns %}
            case when placed_level < {{ withheld_from[column] }} then {{ column }}{{ otherwise[column] }} end as {{ column }},
        {%- endfor %}
        is_unplaced
    from placed
),

groups_numbered as (
    select
        *,
        dense_rank() over (
            order by is_in_customer_segments, placed_level, {{ all_columns | join(', ') }}
        ) as group_number
    from published_values
),

group_sizes as (
    select
        group_number,
        is_in_customer_segments,
        min(placed_level) as placed_level,
        count(*) as group_size
    from groups_numbered
    group by group_number, is_in_customer_segments
),

withheld_groups as (
    select
        is_in_customer_segments,
        sum(is_unplaced) as unplaced_count
    from groups_numbered
    group by is_in_customer_segments
),

groups_ordered as (
    {#- whole placed groups, smallest first, join the withheld group while it is below k #}
    select
        group_sizes.group_number,
        group_sizes.group_size,
        withheld_groups.unplaced_count,
        coalesce(sum(group_sizes.group_size) over (
            partition by group_sizes.is_in_customer_segments
            order by group_sizes.group_size asc, group_sizes.placed_level desc, group_sizes.group_number asc
            rows between unbounded preceding and 1 preceding
        ), 0) as smaller_groups_size
    from group_sizes
    inner join withheld_groups
        on group_sizes.is_in_customer_segments = withheld_groups.is_in_customer_segments
    where group_sizes.placed_level < {{ last_level }}
),

groups_moved as (
    select group_number
    from groups_ordered
    where
        unplaced_count > 0
        and unplaced_count + smaller_groups_size < {{ k }}
),

levels_final as (
    select
        groups_numbered.customer_id,
        case
            when groups_moved.group_number is not null then {{ last_level }}
            else groups_numbered.placed_level
        end as generalisation_level
    from groups_numbered
    left join groups_moved
        on groups_numbered.group_number = groups_moved.group_number
),

final_values as (
    select
        placed.customer_id,
        placed.is_in_customer_segments,
        levels_final.generalisation_level,
        {%- for column in all_columns %}
            case
                when levels_final.generalisation_level < {{ withheld_from[column] }} then placed.{{ column }}{{ otherwise[column] }}
            end as {{ column }},
        {%- endfor %}
        {{ k }} as min_group_size
    from placed
    inner join levels_final
        on placed.customer_id = levels_final.customer_id
),

final as (
    select
        customer_id,
        {{ all_columns | join(',\n        ') }},
        is_in_customer_segments,
        generalisation_level,
        count(*) over (
            partition by is_in_customer_segments, {{ all_columns | join(', ') }}
        ) as published_group_size,
        count(*) over (partition by is_in_customer_segments) as population_size,
        min_group_size
    from final_values
)

select * from final
