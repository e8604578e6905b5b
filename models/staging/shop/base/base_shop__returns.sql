{#- Parses and checks every raw refund. A refund without a currency is in its order's
    currency. -#}
{%- set read_options = raw_read_options('returns') -%}
{%- set checks = contract_missing_checks('shop', 'returns')
    + contract_parse_checks('shop', 'returns')
    + check_timestamp_range('returned_at') + [
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
        {{ contract_parsed_columns('shop', 'returns', read_options, except=['currency', 'reason']) }},
        upper({{ clean_text('currency') }}) as currency_text,
        {{ clean_text('reason') }} as return_reason,
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
    {{ quarantine_checked('converted', checks) }}
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
