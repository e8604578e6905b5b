{#- Active ISO 4217 currencies (alphabetic and numeric code, English name), from
    seeds/currency_codes.csv. -#}
with

currency_codes as (
    select * from {{ ref('currency_codes') }}
),

final as (
    select
        upper(trim(currency_code)) as currency_code,
        trim(currency_numeric_code) as currency_numeric_code,
        currency_name
    from currency_codes
)

select * from final
