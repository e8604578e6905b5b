{#- The segment registry as a table, retired segments included, so BI tools and
    analysts can read every definition next to the data. Rendered from
    the family files, models/marts/segments/families/*.yml. -#}
{%- set families = segment_families() -%}

with

registry as (
    {%- for family in families %}
        {%- set family_loop = loop %}
        {%- for segment in family.segments %}
            select
                {{ text_literal(family.family) }} as segment_family,
                {{ text_literal(family.column) }} as segment_column,
                {{ text_literal(family.group) }} as family_group,
                {{ text_literal(segment.segment) }} as segment,
                {{ text_literal(segment.status) }} as segment_status,
                {{ text_literal(segment.rule) if segment.rule else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as segment_rule,
                {{ text_literal(segment.value) if segment.value else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
                    as segment_value_expression,
                {{ text_literal(segment.description) }} as segment_description,
                {{ text_literal(family.description) }} as family_description,
                {{ text_literal(segment.owner) }} as segment_owner,
                {{ text_literal(family.metrics | join(', ')) }} as reason_metrics,
                {{ segment.priority }} as segment_priority,
                {{ 'true' if segment.is_fallback else 'false' }} as is_fallback,
                {{ 'true' if segment.value else 'false' }} as is_value_segment
            {%- if not (family_loop.last and loop.last) %}
                union all
            {%- endif %}
        {%- endfor %}
    {%- endfor %}
    {%- if not families %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_family
    {%- endif %}
),

final as (
    select
        segment_family,
        segment_column,
        family_group,
        segment,
        segment_status,
        segment_rule,
        segment_value_expression,
        segment_description,
        family_description,
        segment_owner,
        reason_metrics,
        cast(segment_priority as {{ dbt.type_int() }}) as segment_priority,
        is_fallback,
        is_value_segment
    from registry
)

select * from final
