{#- One row per customer, one column per segment family of the registry
    (models/marts/segments/families/*.yml) plus the micro-segment: the stable
    interface BI tools and later segment families build on. Why a customer is in a
    segment: customer_segment_assignments. -#}
{%- set families = segment_families() -%}

with

assigned as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

micro_segments as (
    select * from {{ ref('customer_micro_segments') }}
),

value_predictions as (
    select * from {{ ref('customer_value_predictions') }}
),

final as (
    select
        assigned.customer_id,
        {%- for family in families %}
            assigned.{{ family.column }},
        {%- endfor %}
        micro_segments.micro_segment,
        assigned.rfm_cell,
        value_predictions.predicted_clv,
        value_predictions.p_alive,
        value_predictions.churn_score,
        assigned.has_any_marketing_consent,
        assigned.as_of_date
    from assigned
    inner join micro_segments
        on assigned.customer_id = micro_segments.customer_id
    inner join value_predictions
        on assigned.customer_id = value_predictions.customer_id
)

select * from final
