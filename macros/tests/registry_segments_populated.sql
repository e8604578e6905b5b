{#- Every active named segment of the registry has customers in a summary model (one
    row per family and segment with customer_count). An empty segment usually means a
    higher-priority rule already takes all its customers (overlapping rules) or a
    threshold is off; meant as a warning. Segments marked `unknown: true` (missing input)
    are left out: with complete data they are rightly empty. -#}
{% test registry_segments_populated(model) %}
{%- set families = segment_families() %}

with

registry_segments as (
    {%- for family in families %}
    {%- set family_loop = loop %}
    {%- for segment in family.active_rules | rejectattr('value') | rejectattr('is_unknown') | list %}
    select
        {{ text_literal(family.family) }} as segment_family,
        {{ text_literal(segment.segment) }} as segment
    union all
    {%- endfor %}
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_family,
        cast(null as {{ dbt.type_string() }}) as segment
    from {{ model }}
    where 1 = 0
),

summary as (
    select * from {{ model }}
)

select registry_segments.*
from registry_segments
left join summary
    on
        registry_segments.segment_family = summary.segment_family
        and registry_segments.segment = summary.segment
where coalesce(summary.customer_count, 0) = 0

{% endtest %}
