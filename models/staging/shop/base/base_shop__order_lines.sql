{#- Parses and checks every raw order line. A line is priced in its order's currency,
    so it needs a staged order (and a staged product when the catalogue is given). -#}
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

parsed as (
    select
        {{ clean_text('order_line_id') }} as order_line_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('quantity') }} as quantity_text,
        {{ parse_integer('quantity') }} as quantity,
        {{ clean_text('unit_price') }} as unit_price_text,
        {{ parse_decimal('unit_price') }} as unit_price,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ parse_decimal('discount_amount') }} as discount_amount,
        _raw_row_number as raw_row_number
    from source
),

referenced as (
    select
        parsed.*,
        order_keys.currency_code,
        order_keys.to_reporting_rate,
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
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
