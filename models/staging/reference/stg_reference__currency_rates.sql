{#- Exchange rates into the reporting currency, from the units-per-EUR seed, with each
    currency's ISO 4217 name. Empty when the reporting currency has no rate;
    tests/staging/assert_reporting_currency_has_a_rate then fails the build before any
    amount is converted. -#}
with

currency_rates as (
    select
        upper(trim(currency_code)) as currency_code,
        cast(units_per_eur as {{ type_ratio() }}) as units_per_eur
    from {{ ref('currency_rates') }}
),

currency_codes as (
    select * from {{ ref('currency_codes') }}
),

reporting_currency as (
    select units_per_eur as reporting_units_per_eur
    from currency_rates
    where currency_code = upper('{{ var("money.reporting_currency") }}')
),

final as (
    select
        currency_rates.currency_code,
        currency_codes.currency_name,
        currency_rates.units_per_eur,
        reporting_currency.reporting_units_per_eur / currency_rates.units_per_eur as to_reporting_rate
    from currency_rates
    cross join reporting_currency
    left join currency_codes
        on currency_rates.currency_code = upper(trim(currency_codes.currency_code))
)

select * from final
