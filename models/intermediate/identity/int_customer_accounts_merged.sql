{#- One row per person holding at least one shop account or loyalty card: who they are,
    from their primary account (a registered account before a guest checkout, then the
    most recently created, then the smallest customer id), and how many records and
    identifiers were linked into them. A person known only by a loyalty card has no
    account: their attributes are null (Unknown downstream). -#}
with

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where is_customer
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

accounts as (
    select
        resolved.customer_id as person_id,
        customers.*,
        row_number() over (
            partition by resolved.customer_id
            order by
                case when customers.is_guest then 1 else 0 end,
                case when customers.signed_up_at is null then 1 else 0 end,
                customers.signed_up_at desc,
                customers.customer_id asc
        ) as account_rank
    from resolved
    inner join customers
        on resolved.source_customer_id = customers.customer_id
    where resolved.source = 'shop'
),

account_summary as (
    select
        person_id,
        count(*) as account_count,
        min(signed_up_at) as signed_up_at,
        min(case when is_guest then 1 else 0 end) = 1 as is_guest,
        max(case when is_business then 1 else 0 end) = 1 as is_business
    from accounts
    group by person_id
),

record_summary as (
    select
        customer_id,
        count(*) as source_record_count
    from resolved
    group by customer_id
),

identifier_summary as (
    select
        resolved.customer_id,
        count(distinct identifiers.identifier_type || ':' || identifiers.identifier_value) as identifier_count
    from resolved
    inner join identifiers
        on resolved.record_key = identifiers.record_key
    group by resolved.customer_id
),

final as (
    select
        record_summary.customer_id,
        primary_accounts.customer_id as primary_account_id,
        primary_accounts.email,
        primary_accounts.phone,
        primary_accounts.phone_e164,
        primary_accounts.first_name,
        primary_accounts.last_name,
        primary_accounts.gender,
        primary_accounts.country_code,
        primary_accounts.country_name,
        primary_accounts.region,
        primary_accounts.city,
        primary_accounts.postcode,
        primary_accounts.language_code,
        primary_accounts.locale,
        primary_accounts.loyalty_card_id,
        primary_accounts.company_name,
        primary_accounts.company_industry,
        primary_accounts.company_size,
        primary_accounts.birth_date,
        account_summary.signed_up_at,
        coalesce(account_summary.is_guest, false) as is_guest,
        coalesce(account_summary.is_business, false) as is_business,
        coalesce(account_summary.account_count, 0) as account_count,
        record_summary.source_record_count,
        coalesce(identifier_summary.identifier_count, 0) as identifier_count
    from record_summary
    left join accounts as primary_accounts
        on
            record_summary.customer_id = primary_accounts.person_id
            and primary_accounts.account_rank = 1
    left join account_summary
        on record_summary.customer_id = account_summary.person_id
    left join identifier_summary
        on record_summary.customer_id = identifier_summary.customer_id
)

select * from final
