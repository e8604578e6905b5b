with

order_lines as (
    select * from {{ ref('base_shop__order_lines') }}
    where quarantine_reason is null
),

final as (
    select
        order_line_id,
        order_id,
        product_id,
        currency_code,
        quantity,
        {{ to_reporting_currency('unit_price', 'to_reporting_rate') }} as unit_price,
        {{ to_reporting_currency('coalesce(discount_amount, 0)', 'to_reporting_rate') }} as discount_amount,
        {{ to_reporting_currency('quantity * unit_price - coalesce(discount_amount, 0)', 'to_reporting_rate') }} as line_amount,
        unit_price as original_unit_price
    from order_lines
)

select * from final
