{#- Parses and checks every raw order line. A line is priced in its order's currency,
    so it needs a staged order (and a staged product when the catalogue is given).

    Incremental: a line carries no date of its own, so it is dated by its order's version
    (order_version_at). After the first build a run parses only the raw rows of the lines
    that are new, whose order has a version in the lookback, that are quarantined, or
    whose order or product changed (macros/staging/incremental_base.sql), and replaces
    those lines' rows. -#}
{{
    config(
        materialized=incremental_base_materialization(),
        incremental_strategy='delete+insert',
        unique_key='order_line_id',
        on_schema_change='sync_all_columns',
        pre_hook="{{ delete_unkeyed_rows('order_line_id') }}",
        post_hook="{{ delete_vanished_key_rows() }}",
    )
}}
{%- set read_options = raw_read_options('order_lines') -%}
{%- set checks = [
    check_missing('order_line_id'),
    check_missing('order_id'),
    check_missing('product_id'),
    check_missing('quantity', parsed=true),
    check_missing('unit_price', parsed=true),
    check_parses('quantity', 'a whole number'),
    check_parses('unit_price', 'a decimal number'),
    check_parses('discount_amount', 'a decimal number'),
    ('quantity <= 0', 'non_positive_quantity', "'quantity is not positive: ' || quantity_text"),
    ('unit_price < 0', 'negative_amount', "'unit_price is negative: ' || unit_price_text"),
    ('discount_amount < 0', 'negative_amount', "'discount_amount is negative: ' || discount_amount_text"),
    (
        'discount_amount > quantity * unit_price',
        'negative_amount',
        "'discount_amount exceeds quantity x unit_price, the line would be negative: ' || discount_amount_text",
    ),
    ('not is_known_order', 'unknown_order', "'order_id is not in orders: ' || order_id"),
    ('not is_staged_order', 'order_quarantined', "'order_id belongs to a quarantined order: ' || order_id"),
    (
        'is_product_catalogue_given and not is_known_product',
        'unknown_product',
        "'product_id is not in products: ' || product_id",
    ),
    (
        'is_product_catalogue_given and not is_staged_product',
        'product_quarantined',
        "'product_id belongs to a quarantined product: ' || product_id",
    ),
] -%}

with

source as (
    select * from {{ source('shop', 'order_lines') }}
),

order_keys as (
    select * from {{ ref('base_shop__order_keys') }}
),

product_keys as (
    select
        product_id,
        max(case when quarantine_reason is null then 1 else 0 end) = 1 as is_staged
    from {{ ref('base_shop__products') }}
    where product_id is not null
    group by product_id
),

product_catalogue as (
    select count(*) > 0 as is_given from product_keys
),
{% if incremental_base_ready() %}
stored as (
    select * from {{ this }}
),

raw_keys as (
    select {{ clean_text('order_line_id') }} as order_line_id
    from source
),

key_match as (
    -- raw rows against stored rows by key: new keys, and keys gone from the raw table
    select
        raw_keys.order_line_id as raw_key,
        stored.order_line_id as stored_key,
        stored.order_version_at
    from raw_keys
    full outer join stored
        on raw_keys.order_line_id = stored.order_line_id
),

touched_lines as (
    -- new lines, and lines of orders with a version in the lookback (an order updated
    -- since has another version: see below)
    select raw_key as order_line_id
    from key_match
    where
        raw_key is not null
        and (
            stored_key is null
            or order_version_at >= {{ incremental_lookback_start('order_version_at') }}
            or {{ incremental_reprocess_all() }}
        )

    union

    -- quarantined lines are checked again: their order or product may have arrived
    select order_line_id
    from stored
    where quarantine_reason is not null

    union

    -- staged lines whose order or product changed since
    select stored.order_line_id
    from stored
    cross join product_catalogue
    left join order_keys
        on stored.order_id = order_keys.order_id
    left join product_keys
        on stored.product_id = product_keys.product_id
    where
        stored.quarantine_reason is null
        and (
            not coalesce(order_keys.is_staged, false)
            or order_keys.version_at <> stored.order_version_at
            or order_keys.currency_code <> stored.currency_code
            or order_keys.to_reporting_rate <> stored.to_reporting_rate
            or stored.is_product_catalogue_given <> product_catalogue.is_given
            or (product_catalogue.is_given and not coalesce(product_keys.is_staged, false))
        )
),
{% endif %}
parsed as (
    select
        {{ clean_text('order_line_id') }} as order_line_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('quantity') }} as quantity_text,
        {{ parse_integer('quantity') }} as quantity,
        {{ clean_text('unit_price') }} as unit_price_text,
        {{ parse_decimal('unit_price', read_options) }} as unit_price,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ parse_decimal('discount_amount', read_options) }} as discount_amount,
        _raw_row_number as raw_row_number
    from source
    {%- if incremental_base_ready() %}
    where
        {{ clean_text('order_line_id') }} is null
        or {{ clean_text('order_line_id') }} in (select touched_lines.order_line_id from touched_lines)
    {%- endif %}
),

referenced as (
    select
        parsed.*,
        order_keys.currency_code,
        order_keys.to_reporting_rate,
        order_keys.version_at as order_version_at,
        order_keys.order_id is not null as is_known_order,
        coalesce(order_keys.is_staged, false) as is_staged_order,
        product_catalogue.is_given as is_product_catalogue_given,
        product_keys.product_id is not null as is_known_product,
        coalesce(product_keys.is_staged, false) as is_staged_product
    from parsed
    cross join product_catalogue
    left join order_keys
        on parsed.order_id = order_keys.order_id
    left join product_keys
        on parsed.product_id = product_keys.product_id
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from referenced
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['order_line_id']) }}
),

final as (
    select
        order_line_id,
        order_id,
        product_id,
        currency_code,
        quantity,
        unit_price,
        discount_amount,
        to_reporting_rate,
        order_version_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number,
        is_product_catalogue_given,
        {{ processing_fingerprint() }} as processing_fingerprint
    from resolved
    {%- if incremental_base_ready() %}

    union all

    {{ vanished_key_rows(14) }}
    {%- endif %}
)

select * from final
