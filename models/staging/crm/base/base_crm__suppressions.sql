{#- Parses and checks every raw suppression row. Phones must be given in E.164 (a leading
    + or 00 and 8 to 15 digits): a national number cannot be placed without a country. -#}
{%- set read_options = raw_read_options('suppressions') -%}
{%- set reasons = ['unsubscribed', 'hard_bounce', 'spam_complaint', 'do_not_contact'] -%}
{%- set checks = contract_missing_checks('crm', 'suppressions') + contract_parse_checks('crm', 'suppressions') + [
    (
        'customer_id is null and email is null and phone is null',
        'missing_value',
        "'names nobody: customer_id, email and phone are all empty'",
    ),
    (
        "reason not in (" ~ text_literals(reasons) ~ ")",
        'invalid_value',
        "'reason is not one of " ~ reasons | join(', ') ~ ": ' || reason",
    ),
    (
        "channel is not null and channel not in (" ~ text_literals(var('consent.channels')) ~ ")",
        'invalid_value',
        "'channel is not one of " ~ var('consent.channels') | join(', ') ~ ": ' || channel",
    ),
    (
        'phone is not null and phone_e164 is null',
        'invalid_value',
        "'phone is not in E.164 (+ and 8 to 15 digits): ' || phone",
    ),
] + check_timestamp_range('recorded_at') + customer_reference_checks() -%}

with

source as (
    select * from {{ source('crm', 'suppressions') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),

parsed as (
    select
        {{ contract_parsed_columns('crm', 'suppressions', read_options, except=['email', 'channel', 'reason']) }},
        lower({{ clean_text('email') }}) as email,
        lower({{ clean_text('channel') }}) as channel,
        lower({{ clean_text('reason') }}) as reason,
        _raw_row_number as raw_row_number
    from source
),

phones_normalised as (
    select
        parsed.*,
        {{ regex_replace('parsed.phone', '[^0-9+]', '') }} as phone_digits_only
    from parsed
),

phones_checked as (
    select
        phones_normalised.*,
        case
            when {{ regex_like('phone_digits_only', '^(\\+|00)[1-9][0-9]{7,14}$') }}
                then '+' || {{ regex_replace('phone_digits_only', '^(00|\\+)', '') }}
        end as phone_e164
    from phones_normalised
),

referenced as (
    {{ customer_referenced('phones_checked') }}
),

checked as (
    {{ quarantine_checked('referenced', checks) }}
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['suppression_id']) }}
),

final as (
    select
        suppression_id,
        customer_id,
        email,
        phone_e164,
        channel,
        reason,
        recorded_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
