{#- Parses and checks every raw consent event. Channels and purposes outside the vars
    consent.channels and consent.purposes are quarantined like an unknown status:
    int_consent_events_interpreted reads such a row as a revocation. -#}
{%- set read_options = raw_read_options('consents') -%}
{%- set channels = var('consent.channels') -%}
{%- set purposes = var('consent.purposes') -%}
{%- set checks = contract_missing_checks('crm', 'consents') + contract_parse_checks('crm', 'consents') + [
    (
        "status not in ('granted', 'revoked')",
        'invalid_value',
        "'status is neither granted nor revoked: ' || status",
    ),
    (
        'channel not in (' ~ text_literals(channels) ~ ')',
        'invalid_value',
        "'channel is not in consent.channels: ' || channel",
    ),
    (
        'purpose not in (' ~ text_literals(purposes) ~ ')',
        'invalid_value',
        "'purpose is not in consent.purposes: ' || purpose",
    ),
] + check_timestamp_range('recorded_at') + customer_reference_checks() -%}

with

source as (
    select * from {{ source('crm', 'consents') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),

parsed as (
    select
        {{ contract_parsed_columns('crm', 'consents', read_options, except=['channel', 'purpose', 'status', 'collection_point']) }},
        lower({{ clean_text('channel') }}) as channel,
        lower(coalesce({{ clean_text('purpose') }}, 'marketing')) as purpose,
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('collection_point') }}) as collection_point,
        _raw_row_number as raw_row_number
    from source
),

referenced as (
    {{ customer_referenced('parsed') }}
),

checked as (
    {{ quarantine_checked('referenced', checks) }}
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['consent_id']) }}
),

final as (
    select
        consent_id,
        customer_id,
        channel,
        purpose,
        status,
        collection_point,
        recorded_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
