{#- Order lines rolled up to one row per order. -#}
with

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

final as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity,
        sum(line_amount) as lines_amount,
        sum(discount_amount) as line_discount_amount
    from order_lines
    group by order_id
)

select * from final
