with

feedback as (
    select * from {{ ref('base_crm__feedback') }}
    where quarantine_reason is null
),

final as (
    select
        feedback_id,
        customer_id,
        order_id,
        feedback_type,
        comment,
        nps_score,
        rating,
        submitted_at,
        resolved_at
    from feedback
)

select * from final
