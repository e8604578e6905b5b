{#- Parses and checks every raw erasure request. Details never quote the customer id or
    the email: quarantined_rows publishes them. -#}
{%- set read_options = raw_read_options('erasure_requests') -%}
{%- set checks = contract_missing_checks('crm', 'erasure_requests') + [
    (
        'customer_id is null and email is null',
        'missing_value',
        "'neither customer_id nor email is given: the request names nobody'",
    ),
] + contract_parse_checks('crm', 'erasure_requests') + check_timestamp_range('requested_at') -%}

with

source as (
    select * from {{ source('crm', 'erasure_requests') }}
),

parsed as (
    select
        {{ contract_parsed_columns('crm', 'erasure_requests', read_options, except=['email']) }},
        {{ normalise_email_for_matching(clean_text('email')) }} as email,
        _raw_row_number as raw_row_number
    from source
),

checked as (
    {{ quarantine_checked('parsed', checks) }}
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['request_id']) }}
),

final as (
    select
        request_id,
        customer_id,
        email,
        requested_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
