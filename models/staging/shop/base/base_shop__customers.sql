{#- Parses and checks every raw customer row: one row per raw row with the parsed
    values, the raw row as JSON and, for a row that breaks the contract, the reason. -#}
{%- set email_pattern = '^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$' -%}
{%- set read_options = raw_read_options('customers') -%}
{%- set checks = contract_missing_checks('shop', 'customers') + [
    (
        'email is not null and not ' ~ regex_like('email', email_pattern),
        'malformed_email',
        "'email is not an address: ' || email",
    ),
] + contract_parse_checks('shop', 'customers') + check_timestamp_range('signed_up_at') -%}

with

source as (
    select * from {{ source('shop', 'customers') }}
),

parsed as (
    select
        {{ contract_parsed_columns('shop', 'customers', read_options, except=['email']) }},
        lower({{ clean_text('email') }}) as email,
        _raw_row_number as raw_row_number
    from source
),

checked as (
    {{ quarantine_checked('parsed', checks) }}
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['customer_id']) }}
),

final as (
    select
        customer_id,
        email,
        phone,
        first_name,
        last_name,
        gender,
        country,
        region,
        city,
        postcode,
        address_line1,
        address_line2,
        locale,
        loyalty_card_id,
        company_name,
        company_industry,
        company_size,
        is_guest,
        birth_date,
        signed_up_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
