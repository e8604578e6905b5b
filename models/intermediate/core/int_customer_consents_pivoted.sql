{#- Marketing consent in force per customer and channel as of as_of_date: the latest
    grant or revocation for purpose 'marketing'. No record means no consent. -#}
{%- set consent_channels = ['email', 'sms', 'phone', 'post', 'push'] -%}

with

consents as (
    select * from {{ ref('stg_crm__consents') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

latest_consents as (
    select
        consents.customer_id,
        consents.channel,
        consents.is_granted,
        consents.recorded_at,
        row_number() over (
            partition by consents.customer_id, consents.channel
            order by consents.recorded_at desc, consents.consent_id desc
        ) as recency_rank
    from consents
    cross join as_of
    where
        consents.purpose = 'marketing'
        and consents.recorded_at < as_of.as_of_end_at
),

final as (
    select
        customer_id,
        {%- for channel in consent_channels %}
            max(case when channel = '{{ channel }}' and is_granted then 1 else 0 end) = 1
                as has_{{ channel }}_marketing_consent,
        {%- endfor %}
        max(case when is_granted then 1 else 0 end) = 1 as has_any_marketing_consent,
        max(recorded_at) as consent_updated_at
    from latest_consents
    where recency_rank = 1
    group by customer_id
)

select * from final
