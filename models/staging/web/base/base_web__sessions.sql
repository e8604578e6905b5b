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
        pre_hook=[
            "{{ release_insertion_order() }}",
            "{{ delete_unkeyed_rows('session_id') }}",
        ],
        post_hook="{{ delete_vanished_key_rows() }}",
    )
}}
{%- set read_options = raw_read_options('web_sessions') -%}
{%- set checks = contract_missing_checks('web', 'web_sessions')
    + contract_parse_checks('web', 'web_sessions') + check_timestamp_range('started_at') + [
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
{{ incremental_base_keys(
    'session_id',
    stored_version='started_at',
    raw_relation=source('web', 'web_sessions'),
    raw_version=parse_timestamp('started_at', read_options),
) }}

touched_sessions as (
    select session_id from incremental_keys

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
        {{ contract_parsed_columns('web', 'web_sessions', read_options, except=['device_type', 'traffic_source']) }},
        lower({{ clean_text('device_type') }}) as device_type,
        lower({{ clean_text('traffic_source') }}) as traffic_source,
        _raw_row_number as raw_row_number
    from source
    {{- incremental_base_filter('session_id', 'touched_sessions') }}
),

referenced as (
    {{ customer_referenced('parsed') }}
),

checked as (
    {{ quarantine_checked('referenced', checks) }}
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
    {{- incremental_base_vanished(15) }}
)

select * from final
