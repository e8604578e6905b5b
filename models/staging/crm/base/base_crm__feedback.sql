{#- Parses and checks every raw feedback row. -#}
{%- set read_options = raw_read_options('feedback') -%}
{%- set checks = [
    check_missing('feedback_id'),
    check_missing('customer_id'),
    check_missing('submitted_at', parsed=true),
    check_parses('submitted_at', 'a timestamp'),
    check_parses('resolved_at', 'a timestamp'),
    check_parses('nps_score', 'a whole number'),
    check_parses('rating', 'a whole number'),
] + check_timestamp_range('submitted_at') + check_timestamp_range('resolved_at') + [
    ('nps_score not between 0 and 10', 'out_of_range', "'nps_score is not between 0 and 10: ' || nps_score_text"),
    ('rating not between 1 and 5', 'out_of_range', "'rating is not between 1 and 5: ' || rating_text"),
] + customer_reference_checks() -%}

with

source as (
    select * from {{ source('crm', 'feedback') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),

parsed as (
    select
        {{ clean_text('feedback_id') }} as feedback_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('order_id') }} as order_id,
        lower(coalesce({{ clean_text('feedback_type') }}, 'survey')) as feedback_type,
        {{ clean_text('comment') }} as comment,
        {{ clean_text('nps_score') }} as nps_score_text,
        {{ parse_integer('nps_score') }} as nps_score,
        {{ clean_text('rating') }} as rating_text,
        {{ parse_integer('rating') }} as rating,
        {{ clean_text('submitted_at') }} as submitted_at_text,
        {{ parse_timestamp('submitted_at', read_options) }} as submitted_at,
        {{ clean_text('resolved_at') }} as resolved_at_text,
        {{ parse_timestamp('resolved_at', read_options) }} as resolved_at,
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
    {{ resolve_duplicate_keys('checked', ['feedback_id']) }}
),

final as (
    select
        feedback_id,
        customer_id,
        order_id,
        feedback_type,
        comment,
        nps_score,
        rating,
        submitted_at,
        resolved_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
