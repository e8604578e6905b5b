{#- Country spellings (lower case) mapped to ISO 3166-1 alpha-2 codes. -#}
with

country_codes as (
    select * from {{ ref('country_codes') }}
),

final as (
    select
        lower(trim(country_alias)) as country_alias,
        upper(trim(country_code)) as country_code,
        country_name
    from country_codes
)

select * from final
