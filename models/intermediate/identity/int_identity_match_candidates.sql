{#- One row per shop customer with a first and a last name, normalised for probabilistic
    matching (int_identity_probabilistic_matches). Email and phone are left out: they link
    records deterministically elsewhere, and the probabilistic model neither compares nor
    blocks on them. -#}
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

normalised as (
    select
        {{ dbt.concat(["'shop:'", "customer_id"]) }} as record_key,
        {{ normalise_for_matching('first_name') }} as first_name,
        {{ normalise_for_matching('last_name') }} as last_name,
        nullif({{ regex_replace('upper(postcode)', '[^0-9A-Z]+', '') }}, '') as postcode,
        {{ normalise_for_matching('city') }} as city,
        {{ normalise_address(['address_line1', 'address_line2']) }} as address,
        birth_date
    from customers
),

final as (
    select * from normalised
    where
        first_name is not null
        and last_name is not null
)

select * from final
