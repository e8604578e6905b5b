{#- Parses and checks every raw order row: one row per raw row with the parsed values
    (amounts also in the reporting currency), the raw row as JSON and, for a row that
    breaks the contract, the reason. -#}
{%- set checks = [
    check_missing('order_id'),
    check_missing('customer_id'),
    check_missing('ordered_at', parsed=true),
    check_missing('amount', parsed=true),
    check_parses('ordered_at', 'a timestamp'),
    check_parses('amount', 'a decimal number'),
    check_parses('discount_amount', 'a decimal number'),
    check_parses('updated_at', 'a timestamp'),
] + check_timestamp_range('ordered_at') + [
    (
        'units_per_eur is null',
        'unknown_currency',
        "'currency is not in seeds/currency_rates.csv: ' || currency_code",
    ),
    ('amount < 0', 'negative_amount', "'amount is negative: ' || amount_text"),
    ('discount_amount < 0', 'negative_amount', "'discount_amount is negative: ' || discount_amount_text"),
    (
        'amount_reporting > ' ~ var('max_order_amount'),
        'absurd_amount',
        "'amount exceeds max_order_amount in " ~ var('reporting_currency') ~ ": ' || amount_text || ' ' || currency_code",
    ),
] + customer_reference_checks() -%}

with

source as (
    select * from {{ source('shop', 'orders') }}
),

currency_rates as (
    select * from {{ ref('stg_reference__currency_rates') }}
),

customer_keys as (
    select * from {{ ref('base_shop__customer_keys') }}
),

customer_master as (
    select count(*) > 0 as is_given from customer_keys
),

parsed as (
    select
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        upper(coalesce({{ clean_text('currency') }}, '{{ var("reporting_currency") }}')) as currency_code,
        {{ clean_text('channel') }} as channel,
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ clean_text('amount') }} as amount_text,
        {{ parse_decimal('amount') }} as amount,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ parse_decimal('discount_amount') }} as discount_amount,
        {{ clean_text('ordered_at') }} as ordered_at_text,
        {{ parse_timestamp('ordered_at') }} as ordered_at,
        {{ clean_text('updated_at') }} as updated_at_text,
        {{ parse_timestamp('updated_at') }} as updated_at,
        _raw_row_number as raw_row_number
    from source
),

converted as (
    select
        parsed.*,
        currency_rates.units_per_eur,
        currency_rates.to_reporting_rate,
        {{ to_reporting_currency('parsed.amount', 'currency_rates.to_reporting_rate') }} as amount_reporting,
        {{ to_reporting_currency('parsed.discount_amount', 'currency_rates.to_reporting_rate') }} as discount_amount_reporting,
        customer_master.is_given as is_customer_master_given,
        customer_keys.customer_id is not null as is_known_customer,
        coalesce(customer_keys.is_staged, false) as is_staged_customer
    from parsed
    cross join customer_master
    left join currency_rates
        on parsed.currency_code = currency_rates.currency_code
    left join customer_keys
        on parsed.customer_id = customer_keys.customer_id
),

checked as (
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from converted
),

resolved as (
    {{ resolve_duplicate_keys('checked', ['order_id']) }}
),

final as (
    select
        order_id,
        customer_id,
        currency_code,
        channel,
        coupon_code,
        amount,
        discount_amount,
        amount_reporting,
        discount_amount_reporting,
        to_reporting_rate,
        ordered_at,
        updated_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
