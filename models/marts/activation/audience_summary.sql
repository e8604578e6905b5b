{#- Per declared audience: how many people its filter selects, how many are kept out and
    why (each person counts once, under the first reason of audience_eligibility), and
    how many are exported. selected_count = exported_count + the suppressed counts. -#}
{%- set reasons = [
    'under_minimum_age', 'age_unknown', 'no_consent', 'consent_unreadable', 'consent_revoked',
    'unsubscribed', 'do_not_contact', 'spam_complaint', 'hard_bounced', 'no_contact_point',
] -%}

with

registry as (
    select * from {{ ref('audience_registry') }}
),

eligibility as (
    select * from {{ ref('audience_eligibility') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

counted as (
    select
        audience,
        count(*) as selected_count,
        {%- for reason in reasons %}
            count(case when suppression_reason = '{{ reason }}' then 1 end) as suppressed_{{ reason }}_count,
        {%- endfor %}
        count(case when is_exported then 1 end) as exported_count
    from eligibility
    group by audience
),

final as (
    select
        registry.audience,
        registry.channel,
        registry.purpose,
        registry.filter_description,
        coalesce(counted.selected_count, 0) as selected_count,
        {%- for reason in reasons %}
            coalesce(counted.suppressed_{{ reason }}_count, 0) as suppressed_{{ reason }}_count,
        {%- endfor %}
        coalesce(counted.exported_count, 0) as exported_count,
        as_of.as_of_date
    from registry
    cross join as_of
    left join counted
        on registry.audience = counted.audience
)

select * from final
