{#- Every family of the segment registry applied to every customer: per family the
    segment (column named as in the registry), the priority of the rule that fired and
    the reason (the family's metrics with their values). Generated from
    the family files (models/marts/segments/families/*.yml); nothing here is family-specific. -#}
{%- set families = segment_families() -%}

with

features as (
    select * from {{ ref('int_segment_features') }}
),

prioritised as (
    -- Each family's rules are evaluated once, here; the label follows from the priority.
    select
        *,
        {%- for family in families %}
            {{ segment_rule_priority(family) }} as {{ family.family }}_rule_priority
            {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from features
),

final as (
    select
        customer_id,
        {%- for family in families %}
            {{ segment_case(family, family.family ~ '_rule_priority') }} as {{ family.column }},
            {{ family.family }}_rule_priority,
            {{ segment_reason(family) }} as {{ family.family }}_reason,
        {%- endfor %}
        rfm_cell,
        has_any_marketing_consent,
        as_of_date
    from prioritised
)

select * from final
