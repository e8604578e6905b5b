{#- Parses and checks every raw refund. A refund without a currency is in its order's
    currency. -#}
{%- set read_options = raw_read_options('returns') -%}
{%- set checks = [
    check_missing('return_id'),
    check_missing('order_id'),
    check_missing('returned_at', parsed=true),
    check_missing('refund_amount', parsed=true),
    check_parses('returned_at', 'a timestamp'),
    check_parses('refund_amount', 'a decimal number'),
] + check_timestamp_range('returned_at') + [
    ('refund_amount < 0', 'negative_amount', "'refund_amount is negative: ' || refund_amount_text"),
    ('not is_known_order', 'unknown_order', "'order_id is not in orders: ' || order_id"),
    ('not is_staged_order', 'order_quarantined', "'order_id belongs to a quarantined order: ' || order_id"),
    (
        'to_reporting_rate is null',
        'unknown_currency',
        "'currency is not in seeds/currency_rates.csv: ' || currency_code",
    ),
    (
        'refund_amount_reporting > order_amount_reporting',
        'absurd_amount',
        "'refund_amount exceeds the amount of its order: ' || refund_amount_text",
    ),
] -%}

with

source as (
    select * from {{ source('shop', 'returns') }}
),

order_keys as (
    select * from {{ ref('base_shop__order_keys') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

parsed as (
    select
        {{ clean_text('return_id') }} as return_id,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('order_line_id') }} as order_line_id,
        upper({{ clean_text('currency') }}) as currency_text,
        {{ clean_text('reason') }} as return_reason,
        {{ clean_text('refund_amount') }} as refund_amount_text,
        {{ parse_decimal('refund_amount', read_options) }} as refund_amount,
        {{ clean_text('returned_at') }} as returned_at_text,
        {{ parse_timestamp('returned_at', read_options) }} as returned_at,
        _raw_row_number as raw_row_number
    from source
),

referenced as (
    select
        parsed.*,
        coalesce(parsed.currency_text, order_keys.currency_code) as currency_code,
        order_keys.amount_reporting as order_amount_reporting,
        order_keys.order_id is not null as is_known_order,
        coalesce(order_keys.is_staged, false) as is_staged_order
    from parsed
    left join order_keys
        on parsed.order_id = order_keys.order_id
),

converted as (
    select
        referenced.*,
        currency_rates.to_reporting_rate,
        {{ to_reporting_currency('referenced.refund_amount', 'currency_rates.to_reporting_rate') }} as refund_amount_reporting
    from referenced
    left join currency_rates
        on referenced.currency_code = currency_rates.currency_code
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from converted
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['return_id']) }}
),

final as (
    select
        return_id,
        order_id,
        order_line_id,
        currency_code,
        return_reason,
        refund_amount,
        refund_amount_reporting,
        returned_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
