{#- Parses and checks every raw product row. -#}
{%- set read_options = raw_read_options('products') -%}
{%- set checks = [
    check_missing('product_id'),
    check_parses('list_price', 'a decimal number'),
    ('list_price < 0', 'negative_amount', "'list_price is negative: ' || list_price_text"),
] -%}

with

source as (
    select * from {{ source('shop', 'products') }}
),

parsed as (
    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        lower({{ clean_text('category') }}) as category,
        lower({{ clean_text('subcategory') }}) as subcategory,
        {{ clean_text('brand') }} as brand,
        {{ clean_text('list_price') }} as list_price_text,
        {{ parse_decimal('list_price', read_options) }} as list_price,
        _raw_row_number as raw_row_number
    from source
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from parsed
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['product_id']) }}
),

final as (
    select
        product_id,
        product_name,
        category,
        subcategory,
        brand,
        list_price,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
