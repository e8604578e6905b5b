{#- Parses and checks every raw order line. A line is priced in its order's currency,
    so it needs a staged order (and a staged product when the catalogue is given).

    Incremental: a line carries no date of its own, so it is dated by its order's version
    (order_version_at). After the first build a run parses only the raw rows of the lines
    that are new, whose order has a version in the lookback, that are quarantined, or
    whose order or product changed (macros/staging/incremental_base.sql), and replaces
    those lines' rows.

    Repeated line keys are settled after the lines are written, on DuckDB (the post-hook
    settle_duplicate_keys): the window that settles them in the statement holds every
    checked line, more than the disk at 10M customers. -#}
{{
    config(
        materialized=incremental_base_materialization(),
        incremental_strategy='delete+insert',
        unique_key='order_line_id',
        on_schema_change='sync_all_columns',
        pre_hook=[
            "{{ release_insertion_order() }}",
            "{{ delete_unkeyed_rows('order_line_id') }}",
        ],
        post_hook=[
            "{{ delete_vanished_key_rows() }}",
            "{{ settle_duplicate_keys(['order_line_id']) }}",
        ],
    )
}}
{%- set read_options = raw_read_options('order_lines') -%}
{%- set checks = contract_missing_checks('shop', 'order_lines')
    + contract_parse_checks('shop', 'order_lines') + [
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
{{ incremental_base_keys(
    'order_line_id',
    stored_version='order_version_at',
    raw_relation=source('shop', 'order_lines'),
) }}

touched_lines as (
    select order_line_id from incremental_keys

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
        {{ contract_parsed_columns('shop', 'order_lines', read_options) }},
        _raw_row_number as raw_row_number
    from source
    {{- incremental_base_filter('order_line_id', 'touched_lines') }}
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
    {{ quarantine_checked('referenced', checks) }}
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['order_line_id'], after_write=true) }}
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
    {{- incremental_base_vanished(14) }}
)

select * from final
