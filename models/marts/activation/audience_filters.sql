{#- The filters of the declared audiences as rows: a person is in an audience's
    selection when, for every family with is_exclusion false, they hold one of the
    listed segments, and they hold none of the segments with is_exclusion true. -#}
{%- set declared = audiences() -%}
{%- set rows = [] -%}
{%- for audience in declared -%}
    {%- for filter in audience.filters -%}
        {%- do rows.append({'audience': audience.audience, 'segment_family': filter.segment_family, 'segment': filter.segment, 'is_exclusion': filter.is_exclusion}) -%}
    {%- endfor -%}
{%- endfor -%}

with

{% if rows -%}
    filters as (
        {%- for row in rows %}
            select
                {{ text_literal(row.audience) }} as audience,
                {{ text_literal(row.segment_family) }} as segment_family,
                {{ text_literal(row.segment) }} as segment,
                {{ 'true' if row.is_exclusion else 'false' }} as is_exclusion
            {%- if not loop.last %}
                union all
            {%- endif -%}
        {%- endfor %}
    ),
{%- else -%}
    filters as (
        select
            cast(null as {{ dbt.type_string() }}) as audience,
            cast(null as {{ dbt.type_string() }}) as segment_family,
            cast(null as {{ dbt.type_string() }}) as segment,
            cast(null as {{ dbt.type_boolean() }}) as is_exclusion
        where 1 = 0
    ),
{%- endif %}

final as (
    select
        audience,
        segment_family,
        segment,
        is_exclusion
    from filters
)

select * from final
