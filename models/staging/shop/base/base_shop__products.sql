{#- Parses and checks every raw product row. -#}
{%- set checks = [
    check_missing('product_id'),
    check_parses('list_price', 'a decimal number'),
    ('list_price < 0', 'negative_amount', "'list_price is negative: ' || list_price_text"),
] -%}

with

source as (
    select
        *,
        {{ raw_row_json('shop', 'products') }} as raw_row
    from {{ source('shop', 'products') }}
),

parsed as (
    select
        {{ clean_text('product_id') }} as product_id,
        {{ clean_text('product_name') }} as product_name,
        lower({{ clean_text('category') }}) as category,
        lower({{ clean_text('subcategory') }}) as subcategory,
        {{ clean_text('brand') }} as brand,
        {{ clean_text('list_price') }} as list_price_text,
        {{ parse_decimal('list_price') }} as list_price,
        raw_row,
        _raw_location as raw_location,
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

keyed as (
    select
        *,
        {{ key_occurrence(['product_id']) }} as key_occurrence
    from checked
),

resolved as (
    select
        *,
        {{ final_quarantine_reason() }} as quarantine_reason,
        {{ final_quarantine_detail(['product_id']) }} as quarantine_detail
    from keyed
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
        case when quarantine_reason is not null then raw_row end as raw_row,
        raw_location,
        raw_row_number
    from resolved
)

select * from final
