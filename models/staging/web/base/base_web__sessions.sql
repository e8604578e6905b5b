{#- Parses and checks every raw web or app session. -#}
{%- set checks = [
    check_missing('session_id'),
    check_missing('started_at', parsed=true),
    check_parses('started_at', 'a timestamp'),
    check_parses('page_views', 'a whole number'),
] + check_timestamp_range('started_at') + [
    ('page_views < 0', 'out_of_range', "'page_views is negative: ' || page_views_text"),
] + customer_reference_checks() -%}

with

source as (
    select * from {{ source('web', 'web_sessions') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),

parsed as (
    select
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('order_id') }} as order_id,
        lower({{ clean_text('device_type') }}) as device_type,
        {{ clean_text('operating_system') }} as operating_system,
        {{ clean_text('browser') }} as browser,
        lower({{ clean_text('traffic_source') }}) as traffic_source,
        {{ clean_text('page_views') }} as page_views_text,
        {{ parse_integer('page_views') }} as page_views,
        {{ clean_text('started_at') }} as started_at_text,
        {{ parse_timestamp('started_at') }} as started_at,
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
    {{ resolve_duplicate_keys('checked', ['session_id']) }}
),

final as (
    select
        session_id,
        anonymous_id,
        customer_id,
        order_id,
        device_type,
        operating_system,
        browser,
        traffic_source,
        page_views,
        started_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
