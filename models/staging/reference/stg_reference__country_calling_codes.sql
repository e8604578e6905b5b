{#- International calling code and national (trunk) prefix per ISO 3166-1 country, for
    turning national phone numbers into E.164. -#}
with

country_calling_codes as (
    select * from {{ ref('country_calling_codes') }}
),

final as (
    select
        upper(trim(country_code)) as country_code,
        trim(calling_code) as calling_code,
        nullif(trim(national_prefix), '') as national_prefix
    from country_calling_codes
)

select * from final
