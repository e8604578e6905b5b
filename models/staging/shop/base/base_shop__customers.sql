{#- Parses and checks every raw customer row: one row per raw row with the parsed
    values, the raw row as JSON and, for a row that breaks the contract, the reason. -#}
{%- set email_pattern = '^[a-z0-9._%+-]+@[a-z0-9-]+([.][a-z0-9-]+)*[.][a-z]{2,}$' -%}
{%- set read_options = raw_read_options('customers') -%}
{%- set checks = [
    check_missing('customer_id'),
    (
        'email is not null and not ' ~ regex_like('email', email_pattern),
        'malformed_email',
        "'email is not an address: ' || email",
    ),
    check_parses('birth_date', 'a date'),
    check_parses('signed_up_at', 'a timestamp'),
    check_parses('is_guest', 'a boolean'),
    check_parses('company_size', 'a whole number'),
] + check_timestamp_range('signed_up_at') -%}

with

source as (
    select * from {{ source('shop', 'customers') }}
),

parsed as (
    select
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('email') }}) as email,
        {{ clean_text('phone') }} as phone,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ clean_text('gender') }} as gender,
        {{ clean_text('country') }} as country,
        {{ clean_text('region') }} as region,
        {{ clean_text('city') }} as city,
        {{ clean_text('postcode') }} as postcode,
        {{ clean_text('locale') }} as locale,
        {{ clean_text('loyalty_card_id') }} as loyalty_card_id,
        {{ clean_text('company_name') }} as company_name,
        {{ clean_text('company_industry') }} as company_industry,
        {{ clean_text('company_size') }} as company_size_text,
        {{ parse_integer('company_size') }} as company_size,
        {{ clean_text('is_guest') }} as is_guest_text,
        {{ parse_boolean('is_guest') }} as is_guest,
        {{ clean_text('birth_date') }} as birth_date_text,
        {{ parse_date('birth_date', read_options) }} as birth_date,
        {{ clean_text('signed_up_at') }} as signed_up_at_text,
        {{ parse_timestamp('signed_up_at', read_options) }} as signed_up_at,
        _raw_row_number as raw_row_number
    from source
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from parsed
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
