{#- Parses and checks every raw web or app session.

    Incremental: after the first build a run parses only the raw rows of the sessions
    that are new, started within the lookback, quarantined, or whose customer was
    quarantined since (macros/staging/incremental_base.sql), and replaces those
    sessions' rows. -#}
{{
    config(
        materialized=incremental_base_materialization(),
        incremental_strategy='delete+insert',
        unique_key='session_id',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_unkeyed_rows('session_id') }}",
        post_hook="{{ delete_vanished_key_rows() }}",
    )
}}
{%- set read_options = raw_read_options('web_sessions') -%}
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
{% if incremental_base_ready() %}
stored as (
    select * from {{ this }}
),

raw_versions as (
    select
        {{ clean_text('session_id') }} as session_id,
        {{ parse_timestamp('started_at', read_options) }} as started_at
    from source
),

key_match as (
    -- raw rows against stored rows by key: new keys, and keys gone from the raw table
    select
        raw_versions.session_id as raw_key,
        stored.session_id as stored_key,
        raw_versions.started_at
    from raw_versions
    full outer join stored
        on raw_versions.session_id = stored.session_id
),

touched_sessions as (
    -- new sessions, and sessions started in the lookback or without a readable start
    select raw_key as session_id
    from key_match
    where
        raw_key is not null
        and (
            stored_key is null
            or started_at is null
            or started_at >= {{ incremental_lookback_start('started_at') }}
            or {{ incremental_reprocess_all() }}
        )

    union

    -- quarantined sessions are checked again: their customer may have arrived
    select session_id
    from stored
    where quarantine_reason is not null

    union

    -- staged sessions whose customer was quarantined since
    select stored.session_id
    from stored
    cross join customer_master
    left join customer_keys
        on stored.customer_id = customer_keys.customer_id
    where
        stored.quarantine_reason is null
        and (
            stored.is_customer_master_given <> customer_master.is_given
            or (
                customer_master.is_given
                and stored.customer_id is not null
                and not coalesce(customer_keys.is_staged, false)
            )
        )
),
{% endif %}
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
        {{ parse_timestamp('started_at', read_options) }} as started_at,
        _raw_row_number as raw_row_number
    from source
    {%- if incremental_base_ready() %}
    where
        {{ clean_text('session_id') }} is null
        or {{ clean_text('session_id') }} in (select touched_sessions.session_id from touched_sessions)
    {%- endif %}
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
        raw_row_number,
        is_customer_master_given,
        {{ processing_fingerprint() }} as processing_fingerprint
    from resolved
    {%- if incremental_base_ready() %}

    union all

    {{ vanished_key_rows(15) }}
    {%- endif %}
)

select * from final
