{#- Parses and checks every raw order row: one row per raw row with the parsed values
    (amounts also in the reporting currency) and, for a row that breaks the contract, the
    reason. A later version of an order (a later updated_at) replaces the earlier one.

    Incremental: after the first build a run parses only the raw rows of the orders that
    are new, updated within the lookback, quarantined, or whose customer or currency rate
    changed (macros/staging/incremental_base.sql), and replaces those orders' rows. -#}
{{
    config(
        materialized=incremental_base_materialization(),
        incremental_strategy='delete+insert',
        unique_key='order_id',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ release_insertion_order() }}",
            "{{ delete_unkeyed_rows('order_id') }}",
        ],
        post_hook="{{ delete_vanished_key_rows() }}",
    )
}}

{%- set read_options = raw_read_options('orders') -%}
{%- set checks = contract_missing_checks('shop', 'orders')
    + contract_parse_checks('shop', 'orders')
    + purchase_checks('ordered_at') -%}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),
{% if incremental_base_ready() %}
{{ incremental_base_keys(
    'order_id',
    stored_version='version_at',
    raw_relation=source('shop', 'orders'),
    raw_version='coalesce(' ~ parse_timestamp('updated_at', read_options) ~ ', ' ~ parse_timestamp('ordered_at', read_options) ~ ')',
) }}

touched_orders as (
    select order_id from incremental_keys

    union

    -- staged orders whose customer was quarantined since, or whose rate changed
    select stored.order_id
    from stored
    cross join customer_master
    left join customer_keys
        on stored.customer_id = customer_keys.customer_id
    left join currency_rates
        on stored.currency_code = currency_rates.currency_code
    where
        stored.quarantine_reason is null
        and (
            stored.is_customer_master_given <> customer_master.is_given
            or (customer_master.is_given and not coalesce(customer_keys.is_staged, false))
            or stored.to_reporting_rate <> currency_rates.to_reporting_rate
            or currency_rates.currency_code is null
        )
),
{% endif %}
parsed as (
    select
        {{ contract_parsed_columns('shop', 'orders', read_options, except=['currency']) }},
        {{ purchase_currency_code() }} as currency_code,
        _raw_row_number as raw_row_number
    from source
    {{- incremental_base_filter('order_id', 'touched_orders') }}
),

converted as (
    {{ purchase_converted('parsed') }}
),

checked as (
    select
        *,
        coalesce(updated_at, ordered_at) as version_at,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from converted
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['order_id'], version_column='version_at') }}
),

final as (
    select
        order_id,
        customer_id,
        currency_code,
        channel,
        coupon_code,
        amount,
        discount_amount,
        amount_reporting,
        discount_amount_reporting,
        to_reporting_rate,
        ordered_at,
        updated_at,
        version_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number,
        is_customer_master_given,
        {{ processing_fingerprint() }} as processing_fingerprint
    from resolved
    {{- incremental_base_vanished(18) }}
)

select * from final
