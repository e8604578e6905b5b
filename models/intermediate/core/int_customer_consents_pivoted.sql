{#- Marketing consent in force per person and channel as of as_of_date. Each account's
    consent is its latest grant or revocation for purpose 'marketing'; no record means no
    consent. A person merged from several accounts has a channel's consent only when
    every account with a decision for it granted it, and, for email, sms and phone, when
    each granting account gave it for the contact point the person is published with
    (consent stays with the address or number it was given for): accounts that disagree
    count as not consenting. -#}
{%- set consent_channels = ['email', 'sms', 'phone', 'post', 'push'] -%}

with

consents as (
    select * from {{ ref('stg_crm__consents') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

people as (
    select * from {{ ref('int_customer_accounts_merged') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

latest_consents as (
    select
        consents.customer_id as account_id,
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

account_decisions as (
    select
        resolved.customer_id,
        latest_consents.channel,
        latest_consents.recorded_at,
        latest_consents.is_granted
        and case latest_consents.channel
            when 'email'
                then
                    coalesce({{ normalise_email_for_matching('customers.email') }}, '')
                    = coalesce({{ normalise_email_for_matching('people.email') }}, '')
            when 'sms' then coalesce(customers.phone_e164, '') = coalesce(people.phone_e164, '')
            when 'phone' then coalesce(customers.phone_e164, '') = coalesce(people.phone_e164, '')
            else true
        end as is_granted_for_contact_point
    from latest_consents
    inner join resolved
        on latest_consents.account_id = resolved.source_customer_id
    left join customers
        on latest_consents.account_id = customers.customer_id
    left join people
        on resolved.customer_id = people.customer_id
    where latest_consents.recency_rank = 1
),

channel_decisions as (
    select
        customer_id,
        channel,
        min(case when is_granted_for_contact_point then 1 else 0 end) = 1 as is_granted,
        max(recorded_at) as recorded_at
    from account_decisions
    group by customer_id, channel
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
    from channel_decisions
    group by customer_id
)

select * from final
