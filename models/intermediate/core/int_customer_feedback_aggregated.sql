{#- Surveys, reviews and complaints per customer as of as_of_date. -#}
with

feedback as (
    select * from {{ ref('int_feedback_attributed') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

feedback_as_of as (
    select
        feedback.*,
        row_number() over (
            partition by feedback.customer_id, feedback.nps_score is not null
            order by feedback.submitted_at desc, feedback.feedback_id desc
        ) as nps_recency_rank
    from feedback
    cross join as_of
    where feedback.submitted_at < as_of.as_of_end_at
),

final as (
    select
        customer_id,
        count(*) as feedback_count,
        sum(case when feedback_type = 'complaint' then 1 else 0 end) as complaint_count,
        avg(nps_score) as average_nps_score,
        max(case when nps_score is not null and nps_recency_rank = 1 then nps_score end) as latest_nps_score,
        avg(rating) as average_rating,
        max(submitted_at) as last_feedback_at
    from feedback_as_of
    group by customer_id
)

select * from final
