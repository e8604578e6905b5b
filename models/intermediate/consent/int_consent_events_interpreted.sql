{#- Every consent event that counts, read fail-closed: each valid staged event, plus each
    quarantined consent row of a known customer account read as a revocation of what it
    can be read to cover (its channel if readable and in consent.channels, else every
    channel; the same for its purpose), effective at its recorded_at when that is
    readable and in range, else in force whatever the date (effective_at null) until the
    row is fixed. Quarantined rows of unknown accounts belong to nobody and are left out.
    One row per event, channel and purpose it covers. -#}
{%- set channels = var('consent.channels') -%}
{%- set purposes = var('consent.purposes') -%}

with

{# base_crm__consents rather than stg_crm__consents: one read gives the staged rows
    (quarantine_reason null) and the quarantined ones, each with its raw_row_number. #}
consents as (
    select * from {{ ref('base_crm__consents') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop'
),

known_accounts as (
    select distinct source_customer_id as customer_id
    from resolved
),

consent_channels as (
    {%- for channel in channels %}
        select {{ text_literal(channel) }} as channel
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

consent_purposes as (
    {%- for purpose in purposes %}
        select {{ text_literal(purpose) }} as purpose
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

valid_events as (
    select
        consent_id,
        customer_id,
        channel,
        purpose,
        status,
        collection_point,
        cast('valid' as {{ dbt.type_string() }}) as basis,
        raw_row_number,
        status = 'granted' as is_granted,
        true as is_readable,
        recorded_at,
        recorded_at as effective_at
    from consents
    where quarantine_reason is null
),

unreadable_rows as (
    select
        consents.consent_id,
        consents.customer_id,
        consents.collection_point,
        consents.quarantine_reason,
        consents.recorded_at,
        consents.raw_row_number,
        case
            when consents.channel in ({{ text_literals(channels) }}) then consents.channel
        end as readable_channel,
        case
            when consents.purpose in ({{ text_literals(purposes) }}) then consents.purpose
        end as readable_purpose,
        case
            when
                consents.recorded_at <= {{ load_timestamp() }}
                and consents.recorded_at >= {{ min_valid_timestamp() }}
                then consents.recorded_at
        end as effective_at
    from consents
    inner join known_accounts
        on consents.customer_id = known_accounts.customer_id
    where consents.quarantine_reason is not null
),

unreadable_events as (
    select
        unreadable_rows.consent_id,
        unreadable_rows.customer_id,
        consent_channels.channel,
        consent_purposes.purpose,
        cast('revoked' as {{ dbt.type_string() }}) as status,
        unreadable_rows.collection_point,
        unreadable_rows.quarantine_reason as basis,
        unreadable_rows.raw_row_number,
        false as is_granted,
        false as is_readable,
        unreadable_rows.recorded_at,
        unreadable_rows.effective_at
    from unreadable_rows
    inner join consent_channels
        on coalesce(unreadable_rows.readable_channel, consent_channels.channel) = consent_channels.channel
    inner join consent_purposes
        on coalesce(unreadable_rows.readable_purpose, consent_purposes.purpose) = consent_purposes.purpose
),

final as (
    select * from valid_events
    union all
    select * from unreadable_events
)

select * from final
