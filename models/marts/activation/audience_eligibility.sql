{#- Every person each audience's filter selects, and whether they may be contacted: one
    row per audience and selected person, with suppression_reason null for the people
    exported to audience_members, else the first reason that keeps them out:
    under_minimum_age, age_unknown (audiences.min_age_years, audiences.allow_unknown_age),
    no_consent, consent_unreadable, consent_revoked, unsubscribed (the audience's channel
    and purpose, int_customer_consent_decisions), do_not_contact, spam_complaint,
    hard_bounced, unsubscribed (suppression lists, int_contact_suppressions_in_force), then
    no_contact_point (nothing to send to on the channel). People who objected to
    profiling are in no segment, so no filter selects them. -#}
{%- set min_age = var('audiences.min_age_years') -%}

with

registry as (
    select * from {{ ref('audience_registry') }}
),

filters as (
    select * from {{ ref('audience_filters') }}
),

assignments as (
    select * from {{ ref('customer_segment_assignments') }}
),

contact_points as (
    select * from {{ ref('int_customer_contact_points') }}
),

consent_decisions as (
    select * from {{ ref('int_customer_consent_decisions') }}
),

suppressions as (
    select * from {{ ref('int_contact_suppressions_in_force') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

required_families as (
    select
        audience,
        count(distinct segment_family) as required_family_count
    from filters
    where not is_exclusion
    group by audience
),

included as (
    select
        filters.audience,
        assignments.customer_id,
        count(distinct filters.segment_family) as matched_family_count
    from filters
    inner join assignments
        on
            filters.segment_family = assignments.segment_family
            and filters.segment = assignments.segment
    where not filters.is_exclusion
    group by
        filters.audience,
        assignments.customer_id
),

excluded as (
    select distinct
        filters.audience,
        assignments.customer_id
    from filters
    inner join assignments
        on
            filters.segment_family = assignments.segment_family
            and filters.segment = assignments.segment
    where filters.is_exclusion
),

selected as (
    select
        included.audience,
        included.customer_id
    from included
    inner join required_families
        on
            included.audience = required_families.audience
            and included.matched_family_count = required_families.required_family_count
    left join excluded
        on
            included.audience = excluded.audience
            and included.customer_id = excluded.customer_id
    where excluded.customer_id is null
),

suppressions_listed as (
    select
        selected.audience,
        selected.customer_id,
        min(
            case suppressions.reason
                when 'do_not_contact' then 1
                when 'spam_complaint' then 2
                when 'hard_bounce' then 3
                when 'unsubscribed' then 4
            end
        ) as suppression_rank
    from selected
    inner join registry
        on selected.audience = registry.audience
    inner join suppressions
        on
            selected.customer_id = suppressions.customer_id
            and (suppressions.channel is null or registry.channel = suppressions.channel)
    group by
        selected.audience,
        selected.customer_id
),

evaluated as (
    select
        selected.audience,
        selected.customer_id,
        registry.channel,
        registry.purpose,
        contact_points.email,
        contact_points.phone_e164,
        contact_points.email_sha256,
        contact_points.phone_sha256,
        case
            when contact_points.age_years < {{ min_age }} then 'under_minimum_age'
            {%- if not var('audiences.allow_unknown_age') %}
                when contact_points.age_years is null then 'age_unknown'
            {%- endif %}
            when consent_decisions.customer_id is null then 'no_consent'
            when consent_decisions.decision = 'unreadable' then 'consent_unreadable'
            when not consent_decisions.is_granted and consent_decisions.collection_point = 'unsubscribe_link'
                then 'unsubscribed'
            when not consent_decisions.is_granted then 'consent_revoked'
            when suppressions_listed.suppression_rank = 1 then 'do_not_contact'
            when suppressions_listed.suppression_rank = 2 then 'spam_complaint'
            when suppressions_listed.suppression_rank = 3 then 'hard_bounced'
            when suppressions_listed.suppression_rank = 4 then 'unsubscribed'
            when registry.channel = 'email' and contact_points.email is null then 'no_contact_point'
            when registry.channel = 'sms' and contact_points.phone_e164 is null then 'no_contact_point'
            when
                registry.channel = 'paid_ads'
                and contact_points.email is null
                and contact_points.phone_e164 is null
                then 'no_contact_point'
        end as suppression_reason
    from selected
    inner join registry
        on selected.audience = registry.audience
    left join contact_points
        on selected.customer_id = contact_points.customer_id
    left join consent_decisions
        on
            selected.customer_id = consent_decisions.customer_id
            and registry.channel = consent_decisions.channel
            and registry.purpose = consent_decisions.purpose
    left join suppressions_listed
        on
            selected.audience = suppressions_listed.audience
            and selected.customer_id = suppressions_listed.customer_id
),

final as (
    select
        evaluated.audience,
        evaluated.customer_id,
        evaluated.channel,
        evaluated.purpose,
        evaluated.suppression_reason,
        evaluated.email,
        evaluated.phone_e164,
        evaluated.email_sha256,
        evaluated.phone_sha256,
        evaluated.suppression_reason is null as is_exported,
        as_of.as_of_date
    from evaluated
    cross join as_of
)

select * from final
