-- The reporting currency (var money.reporting_currency) must have a row in
-- seeds/currency_rates.csv, or no amount could be converted.
with

reporting_currency_rates as (
    select currency_code
    from {{ ref('stg_reference__currency_rates') }}
    where currency_code = upper('{{ var("money.reporting_currency") }}')
)

select upper('{{ var("money.reporting_currency") }}') as reporting_currency
where not exists (select currency_code from reporting_currency_rates)
