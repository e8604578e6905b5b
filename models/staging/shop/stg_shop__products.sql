with

products as (
    select * from {{ ref('base_shop__products') }}
    where quarantine_reason is null
),

final as (
    select
        product_id,
        product_name,
        category,
        subcategory,
        brand,
        list_price
    from products
)

select * from final
