{{ config(materialized='view') }}

{#- Surveys, reviews and complaints, each attributed to the person of the account that
    gave it (customer_id), keeping that account's id (source_customer_id). -#}
with

feedback as (
    select * from {{ ref('stg_crm__feedback') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

final as (
    select
        feedback.feedback_id,
        resolved.customer_id,
        feedback.customer_id as source_customer_id,
        feedback.order_id,
        feedback.feedback_type,
        feedback.nps_score,
        feedback.rating,
        feedback.comment,
        feedback.submitted_at,
        feedback.resolved_at
    from feedback
    inner join resolved
        on feedback.customer_id = resolved.source_customer_id
)

select * from final
