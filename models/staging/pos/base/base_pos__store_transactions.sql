{#- Parses and checks every raw store transaction. -#}
{%- set read_options = raw_read_options('store_transactions') -%}
{%- set checks = [
    check_missing('transaction_id'),
    check_missing('transacted_at', parsed=true),
    check_missing('amount', parsed=true),
    check_parses('transacted_at', 'a timestamp'),
    check_parses('amount', 'a decimal number'),
    check_parses('discount_amount', 'a decimal number'),
] + check_timestamp_range('transacted_at') + [
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
    select * from {{ source('pos', 'store_transactions') }}
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
        {{ clean_text('transaction_id') }} as transaction_id,
        {{ clean_text('store_id') }} as store_id,
        {{ clean_text('loyalty_card_id') }} as loyalty_card_id,
        {{ clean_text('customer_id') }} as customer_id,
        upper(coalesce({{ clean_text('currency') }}, '{{ var("reporting_currency") }}')) as currency_code,
        {{ clean_text('coupon_code') }} as coupon_code,
        {{ clean_text('amount') }} as amount_text,
        {{ parse_decimal('amount', read_options) }} as amount,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ parse_decimal('discount_amount', read_options) }} as discount_amount,
        {{ clean_text('transacted_at') }} as transacted_at_text,
        {{ parse_timestamp('transacted_at', read_options) }} as transacted_at,
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
    {{ resolve_duplicate_keys('checked', ['transaction_id']) }}
),

final as (
    select
        transaction_id,
        store_id,
        loyalty_card_id,
        customer_id,
        currency_code,
        coupon_code,
        amount,
        discount_amount,
        amount_reporting,
        discount_amount_reporting,
        transacted_at,
        quarantine_reason,
        quarantine_detail,
        raw_row_number
    from resolved
)

select * from final
