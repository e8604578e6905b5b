{#- Why every customer is in every segment: one row per customer and family (registry
    families and the micro-segment) with the rule that fired and the metric values
    behind it, e.g. rule 'spend_percentile >= 0.97 and ...' with reason
    'spend_percentile=0.991, frequency_percentile=0.962, order_count=14, days_since_last_order=12'. -#}
{%- set families = segment_families() -%}
{%- set micro_families = var('segments.micro_families') -%}

with

assigned as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

micro_segments as (
    select * from {{ ref('customer_micro_segments') }}
),

{% for family in families -%}
    {{ family.family }}_assignments as (
        select
            customer_id,
            {{ text_literal(family.family) }} as segment_family,
            {{ family.column }} as segment,
            case {{ family.family }}_rule_priority
                {%- for segment in family.active_rules %}
                    when {{ segment.priority }} then {{ text_literal(segment.rule) }}
                {%- endfor %}
                else 'fallback: no rule holds'
            end as rule_fired,
            {{ family.family }}_reason as reason,
            cast({{ family.family }}_rule_priority as {{ dbt.type_int() }}) as rule_priority,
            as_of_date
        from assigned
    ),

{% endfor -%}
micro_segment_assignments as (
    select
        customer_id,
        'micro_segment' as segment_family,
        micro_segment as segment,
        case
            when is_merged
                then {{ text_literal('cell below segments.micro_min_size (' ~ var('segments.micro_min_size') ~ '): merged into Other') }}
            else {{ text_literal('cross of ' ~ (micro_families | join(' x '))) }}
        end as rule_fired,
        {{ dbt.concat([
            "'micro_segment_cell='", 'micro_segment_cell',
            "', micro_segment_cell_size='", 'cast(micro_segment_cell_size as ' ~ dbt.type_string() ~ ')',
        ]) }} as reason,
        cast(case when is_merged then 2 else 1 end as {{ dbt.type_int() }}) as rule_priority,
        as_of_date
    from micro_segments
),

final as (
    {%- for family in families %}
        select * from {{ family.family }}_assignments
        union all
    {%- endfor %}
    select * from micro_segment_assignments
)

select * from final
