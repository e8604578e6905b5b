{#- E.164 numbers have at most 15 digits after the +; fewer than 8 cannot be a calling code
    and a subscriber number, so such a value is no usable phone number. -#}
{%- set e164_min_digits = 8 -%}
{%- set e164_max_digits = 15 -%}

with

customers as (
    select * from {{ ref('base_shop__customers') }}
    where quarantine_reason is null
),

country_codes as (
    select * from {{ ref('stg_reference__country_codes') }}
),

country_calling_codes as (
    select * from {{ ref('stg_reference__country_calling_codes') }}
),

gender_codes as (
    select * from {{ ref('stg_reference__gender_codes') }}
),

located as (
    select
        customers.*,
        country_codes.country_code,
        country_codes.country_name,
        nullif({{ regex_replace('customers.phone', '[^0-9+]', '') }}, '') as phone_cleaned
    from customers
    left join country_codes
        on lower(customers.country) = country_codes.country_alias
),

phone_parts as (
    {#- A number dialled with + or the international prefix 00 already starts with its
        calling code; any other number is national and needs the calling code of the
        customer's country, without the trunk prefix (the 0 of 030) where the number
        starts with it. #}
    select
        located.*,
        country_calling_codes.calling_code,
        country_calling_codes.national_prefix,
        {{ regex_like('located.phone_cleaned', '^([+]|00)') }} as is_international_phone,
        {{ regex_replace(regex_replace('located.phone_cleaned', '^([+]|00)', ''), '[^0-9]', '') }} as phone_digits
    from located
    left join country_calling_codes
        on located.country_code = country_calling_codes.country_code
),

phone_candidates as (
    select
        phone_parts.*,
        case
            when phone_parts.is_international_phone then phone_parts.phone_digits
            when
                phone_parts.national_prefix is not null
                and {{ dbt.position('phone_parts.national_prefix', 'phone_parts.phone_digits') }} = 1
                then phone_parts.calling_code || {{ dbt.right(
                    'phone_parts.phone_digits',
                    dbt.length('phone_parts.phone_digits') ~ ' - ' ~ dbt.length('phone_parts.national_prefix'),
                ) }}
            else phone_parts.calling_code || phone_parts.phone_digits
        end as phone_e164_digits
    from phone_parts
),

normalised as (
    select
        phone_candidates.customer_id,
        phone_candidates.email,
        phone_candidates.phone_cleaned as phone,
        case
            when {{ regex_like('phone_candidates.phone_e164_digits', '^[1-9][0-9]{' ~ (e164_min_digits - 1) ~ ',' ~ (e164_max_digits - 1) ~ '}$') }}
                then '+' || phone_candidates.phone_e164_digits
        end as phone_e164,
        phone_candidates.first_name,
        phone_candidates.last_name,
        case
            when phone_candidates.gender is null then null
            else coalesce(gender_codes.gender, 'unrecognised')
        end as gender,
        phone_candidates.country as country_input,
        phone_candidates.country_code,
        phone_candidates.country_name,
        phone_candidates.region,
        phone_candidates.city,
        upper(phone_candidates.postcode) as postcode,
        phone_candidates.address_line1,
        phone_candidates.address_line2,
        lower({{ dbt.split_part("replace(phone_candidates.locale, '_', '-')", "'-'", 1) }}) as language_code,
        lower({{ dbt.split_part("replace(phone_candidates.locale, '_', '-')", "'-'", 1) }})
        || case
            when {{ dbt.split_part("replace(phone_candidates.locale, '_', '-')", "'-'", 2) }} <> ''
                then '-' || upper({{ dbt.split_part("replace(phone_candidates.locale, '_', '-')", "'-'", 2) }})
            else ''
        end as locale,
        phone_candidates.loyalty_card_id,
        phone_candidates.company_name,
        lower(phone_candidates.company_industry) as company_industry,
        phone_candidates.company_size,
        coalesce(phone_candidates.is_guest, false) as is_guest,
        phone_candidates.company_name is not null as is_business,
        phone_candidates.birth_date,
        phone_candidates.signed_up_at
    from phone_candidates
    left join gender_codes
        on lower(phone_candidates.gender) = gender_codes.gender_alias
)

select * from normalised
