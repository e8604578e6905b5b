{#- The consent in force per person, channel and purpose as of as_of_date, failing
    closed. Per account the latest counting event wins (an event in force whatever the
    date beats every dated one; ties: a revocation beats a grant, then the higher
    consent_id, then the later raw row). A person merged from several accounts has a
    grant only when every account with a decision granted it and, for email, sms, phone
    and paid_ads, granted it for the contact point the person is published with (paid_ads:
    the email or the phone). No row means no consent. -#}

with

events as (
    select * from {{ ref('int_consent_events_interpreted') }}
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

customer_base as (
    select * from {{ ref('int_customers_unioned') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

events_ranked as (
    select
        events.*,
        row_number() over (
            partition by events.customer_id, events.channel, events.purpose
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
        events.effective_at is null
        or events.effective_at < as_of.as_of_end_at
),

account_decisions as (
    select
        resolved.customer_id,
        events_ranked.customer_id as account_id,
        events_ranked.channel,
        events_ranked.purpose,
        events_ranked.consent_id,
        events_ranked.collection_point,
        events_ranked.is_granted,
        events_ranked.is_readable,
        events_ranked.is_granted
        and case events_ranked.channel
            when 'email'
                then
                    coalesce({{ normalise_email_for_matching('customers.email') }}, '')
                    = coalesce({{ normalise_email_for_matching('people.email') }}, '')
            when 'sms' then coalesce(customers.phone_e164, '') = coalesce(people.phone_e164, '')
            when 'phone' then coalesce(customers.phone_e164, '') = coalesce(people.phone_e164, '')
            when 'paid_ads'
                then
                    coalesce(
                        {{ normalise_email_for_matching('customers.email') }}
                        = {{ normalise_email_for_matching('people.email') }},
                        false
                    )
                    or coalesce(customers.phone_e164 = people.phone_e164, false)
            else true
        end as is_granted_for_contact_point,
        events_ranked.effective_at
    from events_ranked
    inner join resolved
        on events_ranked.customer_id = resolved.source_customer_id
    {# only people of the customer base as of as_of_date #}
    inner join customer_base
        on resolved.customer_id = customer_base.customer_id
    left join customers
        on events_ranked.customer_id = customers.customer_id
    left join people
        on resolved.customer_id = people.customer_id
    where events_ranked.recency_rank = 1
),

{# The event that decides for the person: a refusal when there is one (an explicit
    revocation or an unreadable row before a grant for another contact point; in force
    whatever the date, then the latest), else the latest grant. #}
person_decisions_ranked as (
    select
        account_decisions.*,
        min(case when account_decisions.is_granted_for_contact_point then 1 else 0 end) over (
            partition by account_decisions.customer_id, account_decisions.channel, account_decisions.purpose
        ) = 1 as is_person_granted,
        row_number() over (
            partition by account_decisions.customer_id, account_decisions.channel, account_decisions.purpose
            order by
                case
                    when not account_decisions.is_granted then 0
                    when not account_decisions.is_granted_for_contact_point then 1
                    else 2
                end,
                case when account_decisions.effective_at is null then 0 else 1 end,
                account_decisions.effective_at desc,
                case when account_decisions.is_readable then 1 else 0 end,
                account_decisions.account_id asc,
                coalesce(account_decisions.consent_id, '') desc
        ) as decision_rank
    from account_decisions
),

final as (
    select
        customer_id,
        channel,
        purpose,
        is_person_granted as is_granted,
        case
            when is_person_granted then 'granted'
            when not is_readable then 'unreadable'
            else 'revoked'
        end as decision,
        collection_point,
        effective_at as decided_at
    from person_decisions_ranked
    where decision_rank = 1
)

select * from final
