{#- The people each audience may contact on as_of_date: one row per audience and
    person, only those with a valid consent for the audience's channel and purpose and on
    no suppression list (audience_eligibility says why the others are out). The contact
    key depends on the channel: the email (email), the E.164 phone (sms), the customer id
    the app knows (push), the SHA-256 of the normalised email and of the E.164 phone
    (paid_ads, as customer-match uploads take them). The clear email and phone are PII:
    published and exported only with --include-pii. -#}
with

eligibility as (
    select * from {{ ref('audience_eligibility') }}
    where is_exported
),

final as (
    select
        audience,
        customer_id,
        channel,
        purpose,
        case when channel = 'email' then email end as email,
        case when channel = 'sms' then phone_e164 end as phone_e164,
        case when channel = 'paid_ads' then email_sha256 end as email_sha256,
        case when channel = 'paid_ads' then phone_sha256 end as phone_sha256,
        as_of_date
    from eligibility
)

select * from final
