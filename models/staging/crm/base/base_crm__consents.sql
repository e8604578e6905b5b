{#- Parses and checks every raw consent event. -#}
{%- set read_options = raw_read_options('consents') -%}
{%- set checks = [
    check_missing('consent_id'),
    check_missing('customer_id'),
    check_missing('channel'),
    check_missing('status'),
    check_missing('recorded_at', parsed=true),
    check_parses('recorded_at', 'a timestamp'),
    (
        "status not in ('granted', 'revoked')",
        'invalid_value',
        "'status is neither granted nor revoked: ' || status",
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
        {{ clean_text('consent_id') }} as consent_id,
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('channel') }}) as channel,
        lower(coalesce({{ clean_text('purpose') }}, 'marketing')) as purpose,
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('collection_point') }}) as collection_point,
        {{ clean_text('recorded_at') }} as recorded_at_text,
        {{ parse_timestamp('recorded_at', read_options) }} as recorded_at,
        _raw_row_number as raw_row_number
    from source
),

referenced as (
    select
        parsed.*,
        customer_master.is_given as is_customer_master_given,
        customer_keys.customer_id is not null as is_known_customer,
        coalesce(customer_keys.is_staged, false) as is_staged_customer
    from parsed
    cross join customer_master
    left join customer_keys
        on parsed.customer_id = customer_keys.customer_id
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from referenced
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
