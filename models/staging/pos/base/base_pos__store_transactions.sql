{#- Parses and checks every raw store transaction: the contract's parsing and checks, and
    the purchase checks shared with shop orders (macros/staging/purchases.sql). -#}
{%- set read_options = raw_read_options('store_transactions') -%}
{%- set checks = contract_missing_checks('pos', 'store_transactions')
    + contract_parse_checks('pos', 'store_transactions')
    + purchase_checks('transacted_at') -%}

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
        {{ contract_parsed_columns('pos', 'store_transactions', read_options, except=['currency']) }},
        {{ purchase_currency_code() }} as currency_code,
        _raw_row_number as raw_row_number
    from source
),

converted as (
    {{ purchase_converted('parsed') }}
),

checked as (
    {{ quarantine_checked('converted', checks) }}
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
