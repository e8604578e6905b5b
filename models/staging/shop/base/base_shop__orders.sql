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
        pre_hook="{{ delete_unkeyed_rows('order_id') }}",
        post_hook="{{ delete_vanished_key_rows() }}",
    )
}}

{%- set read_options = raw_read_options('orders') -%}
{%- set checks = [
    check_missing('order_id'),
    check_missing('customer_id'),
    check_missing('ordered_at', parsed=true),
    check_missing('amount', parsed=true),
    check_parses('ordered_at', 'a timestamp'),
    check_parses('amount', 'a decimal number'),
    check_parses('discount_amount', 'a decimal number'),
    check_parses('updated_at', 'a timestamp'),
] + check_timestamp_range('ordered_at') + [
    (
        'units_per_eur is null',
        'unknown_currency',
        "'currency is not in seeds/currency_rates.csv: ' || currency_code",
    ),
    ('amount < 0', 'negative_amount', "'amount is negative: ' || amount_text"),
    ('discount_amount < 0', 'negative_amount', "'discount_amount is negative: ' || discount_amount_text"),
    (
        'amount_reporting > ' ~ var('max_order_amount'),
        'absurd_amount',
        "'amount exceeds max_order_amount in " ~ var('reporting_currency') ~ ": ' || amount_text || ' ' || currency_code",
    ),
] + customer_reference_checks() -%}

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
stored as (
    select * from {{ this }}
),

raw_versions as (
    select
        {{ clean_text('order_id') }} as order_id,
        coalesce({{ parse_timestamp('updated_at', read_options) }}, {{ parse_timestamp('ordered_at', read_options) }}) as version_at
    from source
),

key_match as (
    -- raw rows against stored rows by key: new keys, and keys gone from the raw table
    select
        raw_versions.order_id as raw_key,
        stored.order_id as stored_key,
        raw_versions.version_at
    from raw_versions
    full outer join stored
        on raw_versions.order_id = stored.order_id
),

touched_orders as (
    -- new orders, and orders with a version in the lookback or without a readable one
    select raw_key as order_id
    from key_match
    where
        raw_key is not null
        and (
            stored_key is null
            or version_at is null
            or version_at >= {{ incremental_lookback_start('version_at') }}
            or {{ incremental_reprocess_all() }}
        )

    union

    -- quarantined orders are checked again: their customer may have arrived
    select order_id
    from stored
    where quarantine_reason is not null

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
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        upper(coalesce({{ clean_text('currency') }}, '{{ var("reporting_currency") }}')) as currency_code,
        {{ clean_text('channel') }} as channel,
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ clean_text('amount') }} as amount_text,
        {{ parse_decimal('amount', read_options) }} as amount,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ parse_decimal('discount_amount', read_options) }} as discount_amount,
        {{ clean_text('ordered_at') }} as ordered_at_text,
        {{ parse_timestamp('ordered_at', read_options) }} as ordered_at,
        {{ clean_text('updated_at') }} as updated_at_text,
        {{ parse_timestamp('updated_at', read_options) }} as updated_at,
        _raw_row_number as raw_row_number
    from source
    {%- if incremental_base_ready() %}
    where
        {{ clean_text('order_id') }} is null
        or {{ clean_text('order_id') }} in (select touched_orders.order_id from touched_orders)
    {%- endif %}
),

converted as (
    select
        parsed.*,
        currency_rates.units_per_eur,
        currency_rates.to_reporting_rate,
        {{ to_reporting_currency('parsed.amount', 'currency_rates.to_reporting_rate') }} as amount_reporting,
        {{ to_reporting_currency('parsed.discount_amount', 'currency_rates.to_reporting_rate') }} as discount_amount_reporting,
        customer_master.is_given as is_customer_master_given,
        customer_keys.customer_id is not null as is_known_customer,
        coalesce(customer_keys.is_staged, false) as is_staged_customer
    from parsed
    cross join customer_master
    left join currency_rates
        on parsed.currency_code = currency_rates.currency_code
    left join customer_keys
        on parsed.customer_id = customer_keys.customer_id
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
    {%- if incremental_base_ready() %}

    union all

    {{ vanished_key_rows(18) }}
    {%- endif %}
)

select * from final
