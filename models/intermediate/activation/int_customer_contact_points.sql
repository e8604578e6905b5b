{#- Each person's contact points as audiences use them: the email and E.164 phone the
    person is published with (their primary account's; consent for email, sms and
    paid_ads is only valid for these, see int_customer_consent_decisions), the SHA-256
    keys ad platforms' customer-match uploads take (the hash of the trimmed, lower-cased
    email; of the E.164 phone with its +), and the age on as_of_date. -#}
with

people as (
    select * from {{ ref('int_customer_accounts_merged') }}
),

profiles as (
    select * from {{ ref('int_customers_profiled') }}
),

contact_points as (
    select
        profiles.customer_id,
        lower(trim(people.email)) as email,
        people.phone_e164,
        profiles.age_years
    from profiles
    left join people
        on profiles.customer_id = people.customer_id
),

final as (
    select
        customer_id,
        email,
        phone_e164,
        {{ sha256_hex('email') }} as email_sha256,
        {{ sha256_hex('phone_e164') }} as phone_sha256,
        age_years
    from contact_points
)

select * from final
