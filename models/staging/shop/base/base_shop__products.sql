{#- Parses and checks every raw product row. -#}
{%- set read_options = raw_read_options('products') -%}
{%- set checks = contract_missing_checks('shop', 'products') + contract_parse_checks('shop', 'products') + [
    ('list_price < 0', 'negative_amount', "'list_price is negative: ' || list_price_text"),
] -%}

with

source as (
    select * from {{ source('shop', 'products') }}
),

parsed as (
    select
        {{ contract_parsed_columns('shop', 'products', read_options, except=['category', 'subcategory']) }},
        lower({{ clean_text('category') }}) as category,
        lower({{ clean_text('subcategory') }}) as subcategory,
        _raw_row_number as raw_row_number
    from source
),

checked as (
    {{ quarantine_checked('parsed', checks) }}
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
