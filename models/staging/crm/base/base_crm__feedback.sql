{#- Parses and checks every raw feedback row. -#}
{%- set read_options = raw_read_options('feedback') -%}
{#- timestamps are checked before scores (not in contract order): a row with several
    unreadable values is reported for its timestamp -#}
{%- set checks = contract_missing_checks('crm', 'feedback')
    + contract_parse_checks('crm', 'feedback', columns=['submitted_at', 'resolved_at', 'nps_score', 'rating'])
    + check_timestamp_range('submitted_at') + check_timestamp_range('resolved_at') + [
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
        {{ contract_parsed_columns('crm', 'feedback', read_options, except=['feedback_type']) }},
        lower(coalesce({{ clean_text('feedback_type') }}, 'survey')) as feedback_type,
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
