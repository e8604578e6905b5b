{#- Suppression-list entries in force on as_of_date, per person: one row per person,
    channel (null: every channel) and reason. An entry names a person by shop customer id
    (any of the person's accounts), by email or by E.164 phone (the person's published
    contact points, int_customer_contact_points). A quarantined entry still suppresses
    whoever it names (fail closed): its reason, when unreadable, counts as do_not_contact
    and its channel, when unreadable, as every channel; its date, when unreadable, as
    always in force. An `unsubscribed` entry is lifted by a later valid grant of consent
    for its channel (the person subscribed again); the other reasons are never lifted. -#}
{%- set reasons = ['unsubscribed', 'hard_bounce', 'spam_complaint', 'do_not_contact'] -%}

with

suppressions as (
    select * from {{ ref('base_crm__suppressions') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

contact_points as (
    select * from {{ ref('int_customer_contact_points') }}
),

consent_decisions as (
    select * from {{ ref('int_customer_consent_decisions') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

entries as (
    select
        suppressions.suppression_id,
        suppressions.customer_id as account_id,
        suppressions.email,
        suppressions.phone_e164,
        case
            when
                suppressions.quarantine_reason is null
                or suppressions.channel in ({{ text_literals(var('consent.channels')) }})
                then suppressions.channel
        end as channel,
        case
            when
                suppressions.quarantine_reason is null
                or suppressions.reason in ({{ text_literals(reasons) }})
                then suppressions.reason
            else 'do_not_contact'
        end as reason,
        case
            when suppressions.quarantine_reason is null then suppressions.recorded_at
            when suppressions.quarantine_reason in ('future_timestamp', 'timestamp_out_of_range') then null
            else suppressions.recorded_at
        end as recorded_at,
        suppressions.quarantine_reason is not null as is_unreadable
    from suppressions
    where coalesce(suppressions.quarantine_reason, '') <> 'duplicate_key'
),

entries_in_force as (
    select entries.*
    from entries
    cross join as_of
    where entries.recorded_at is null or entries.recorded_at < as_of.as_of_end_at
),

named_people as (
    select
        entries_in_force.suppression_id,
        resolved.customer_id,
        entries_in_force.channel,
        entries_in_force.reason,
        entries_in_force.recorded_at
    from entries_in_force
    inner join resolved
        on entries_in_force.account_id = resolved.source_customer_id

    union all

    select
        entries_in_force.suppression_id,
        contact_points.customer_id,
        entries_in_force.channel,
        entries_in_force.reason,
        entries_in_force.recorded_at
    from entries_in_force
    inner join contact_points
        on entries_in_force.email = contact_points.email

    union all

    select
        entries_in_force.suppression_id,
        contact_points.customer_id,
        entries_in_force.channel,
        entries_in_force.reason,
        entries_in_force.recorded_at
    from entries_in_force
    inner join contact_points
        on entries_in_force.phone_e164 = contact_points.phone_e164
),

resubscribed as (
    select
        named_people.suppression_id,
        named_people.customer_id
    from named_people
    inner join consent_decisions
        on
            named_people.customer_id = consent_decisions.customer_id
            and named_people.channel = consent_decisions.channel
    where
        named_people.reason = 'unsubscribed'
        and consent_decisions.is_granted
        and consent_decisions.decided_at > named_people.recorded_at
),

final as (
    select
        named_people.customer_id,
        named_people.channel,
        named_people.reason,
        count(distinct named_people.suppression_id) as entry_count,
        max(named_people.recorded_at) as last_recorded_at
    from named_people
    left join resubscribed
        on
            named_people.suppression_id = resubscribed.suppression_id
            and named_people.customer_id = resubscribed.customer_id
    where resubscribed.suppression_id is null
    group by
        named_people.customer_id,
        named_people.channel,
        named_people.reason
)

select * from final
