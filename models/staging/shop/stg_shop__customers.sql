with

customers as (
    select * from {{ ref('base_shop__customers') }}
    where quarantine_reason is null
),

country_codes as (
    select * from {{ ref('stg_reference__country_codes') }}
),

gender_codes as (
    select * from {{ ref('stg_reference__gender_codes') }}
),

normalised as (
    select
        customers.customer_id,
        customers.email,
        nullif({{ regex_replace('customers.phone', '[^0-9+]', '') }}, '') as phone,
        customers.first_name,
        customers.last_name,
        case
            when customers.gender is null then null
            else coalesce(gender_codes.gender, 'unrecognised')
        end as gender,
        customers.country as country_input,
        country_codes.country_code,
        country_codes.country_name,
        customers.region,
        customers.city,
        upper(customers.postcode) as postcode,
        customers.address_line1,
        customers.address_line2,
        lower({{ dbt.split_part("replace(customers.locale, '_', '-')", "'-'", 1) }}) as language_code,
        lower({{ dbt.split_part("replace(customers.locale, '_', '-')", "'-'", 1) }})
        || case
            when {{ dbt.split_part("replace(customers.locale, '_', '-')", "'-'", 2) }} <> ''
                then '-' || upper({{ dbt.split_part("replace(customers.locale, '_', '-')", "'-'", 2) }})
            else ''
        end as locale,
        customers.loyalty_card_id,
        customers.company_name,
        lower(customers.company_industry) as company_industry,
        customers.company_size,
        coalesce(customers.is_guest, false) as is_guest,
        customers.company_name is not null as is_business,
        customers.birth_date,
        customers.signed_up_at
    from customers
    left join country_codes
        on lower(customers.country) = country_codes.country_alias
    left join gender_codes
        on lower(customers.gender) = gender_codes.gender_alias
)

select * from normalised
