{#- Consent per person as of as_of_date, pivoted for the single customer view: marketing
    consent per channel from int_customer_consent_decisions (fail closed: per account the
    latest counting event, an unreadable row of a known account being a revocation; a
    merged person consents only when every account with a decision granted it for the
    contact point the person is published with), and whether the person objected to
    profiling: per account the latest profiling event on any channel, and the person
    objects unless every account with such an event granted it. No profiling event means
    no objection (profiling runs on legitimate interest until the person objects). One row
    per person with at least one counting consent event. -#}
{%- set consent_channels = ['email', 'sms', 'phone', 'post', 'push'] -%}

with

decisions as (
    select * from {{ ref('int_customer_consent_decisions') }}
),

events as (
    select * from {{ ref('int_consent_events_interpreted') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

profiling_events_ranked as (
    select
        events.customer_id as account_id,
        events.is_granted,
        row_number() over (
            partition by events.customer_id
            order by
                case when events.effective_at is null then 0 else 1 end,
                events.effective_at desc,
                case when events.is_granted then 1 else 0 end,
                coalesce(events.consent_id, '') desc,
                events.raw_row_number desc
        ) as recency_rank
    from events
    cross join as_of
    where
        events.purpose = 'profiling'
        and (events.effective_at is null or events.effective_at < as_of.as_of_end_at)
),

profiling_objections as (
    select
        resolved.customer_id,
        min(case when profiling_events_ranked.is_granted then 1 else 0 end) = 0 as has_objected_to_profiling
    from profiling_events_ranked
    inner join resolved
        on profiling_events_ranked.account_id = resolved.source_customer_id
    where profiling_events_ranked.recency_rank = 1
    group by resolved.customer_id
),

marketing_consents as (
    select
        customer_id,
        {%- for channel in consent_channels %}
            max(case when channel = '{{ channel }}' and is_granted then 1 else 0 end) = 1
                as has_{{ channel }}_marketing_consent,
        {%- endfor %}
        max(case when is_granted then 1 else 0 end) = 1 as has_any_marketing_consent,
        max(decided_at) as consent_updated_at
    from decisions
    where purpose = 'marketing'
    group by customer_id
),

people as (
    select customer_id from decisions
    union
    select customer_id from profiling_objections
),

final as (
    select
        people.customer_id,
        {%- for channel in consent_channels %}
            coalesce(marketing_consents.has_{{ channel }}_marketing_consent, false)
                as has_{{ channel }}_marketing_consent,
        {%- endfor %}
        coalesce(marketing_consents.has_any_marketing_consent, false) as has_any_marketing_consent,
        coalesce(profiling_objections.has_objected_to_profiling, false) as has_objected_to_profiling,
        marketing_consents.consent_updated_at
    from people
    left join marketing_consents
        on people.customer_id = marketing_consents.customer_id
    left join profiling_objections
        on people.customer_id = profiling_objections.customer_id
)

select * from final
