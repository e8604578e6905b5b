{#- Positive experiences per customer as of as_of_date, and whether the customer bought
    again within the charmed family's return_days after one. Positive: a survey with an
    NPS answer of at least min_nps_score, a review rated at least min_rating, or a
    complaint that was resolved (dated by its resolution). The thresholds are the
    charmed family's params (models/marts/segments/families/charmed.yml), so the
    features and the family's rules read the same values. -#}
{%- set return_days = segment_param('charmed', 'return_days', 0) | int -%}
{%- set min_nps_score = segment_param('charmed', 'min_nps_score', 0) -%}
{%- set min_rating = segment_param('charmed', 'min_rating', 0) -%}

with

feedback as (
    select * from {{ ref('int_feedback_attributed') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

feedback_judged as (
    select
        feedback_id,
        customer_id,
        case when feedback_type = 'complaint' then resolved_at else submitted_at end as experienced_at,
        coalesce(nps_score >= {{ min_nps_score }}, false)
        or coalesce(rating >= {{ min_rating }}, false)
        or (feedback_type = 'complaint' and resolved_at is not null) as is_positive
    from feedback
),

positive_experiences as (
    select
        feedback_judged.feedback_id,
        feedback_judged.customer_id,
        feedback_judged.experienced_at
    from feedback_judged
    cross join as_of
    where
        feedback_judged.is_positive
        and feedback_judged.experienced_at < as_of.as_of_end_at
),

returns_after_experience as (
    -- An experience charms when a purchase follows it within the window and by as_of_date.
    select
        positive_experiences.feedback_id,
        max(case when orders.order_id is not null then 1 else 0 end) as is_followed_by_order
    from positive_experiences
    cross join as_of
    left join orders
        on
            positive_experiences.customer_id = orders.customer_id
            and positive_experiences.experienced_at < orders.ordered_at
            and {{ dbt.dateadd('day', return_days, 'positive_experiences.experienced_at') }} >= orders.ordered_at
            and as_of.as_of_end_at > orders.ordered_at
    group by positive_experiences.feedback_id
),

final as (
    select
        positive_experiences.customer_id,
        count(*) as positive_experience_count,
        sum(returns_after_experience.is_followed_by_order) as charmed_experience_count,
        max(positive_experiences.experienced_at) as last_positive_experience_at
    from positive_experiences
    inner join returns_after_experience
        on positive_experiences.feedback_id = returns_after_experience.feedback_id
    group by positive_experiences.customer_id
)

select * from final
