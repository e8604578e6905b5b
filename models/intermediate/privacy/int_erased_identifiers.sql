{#- Every value that identifies an erased person, as text: their customer ids, the ids of
    their records in each source, their emails and phones (normalised and as staged),
    loyalty cards and anonymous ids, the plain SHA-256 of the normalised email and E.164
    phone, and the identifiers the requests gave. Redaction (quarantined_rows) and the
    job (scrubbing ops.job_runs and job_runs.jsonl after the build) search for these. -#}
with

matched as (
    select * from {{ ref('int_erasure_requests_matched') }}
),

erased_records as (
    select * from {{ ref('int_erased_records') }}
),

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

record_identifiers as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value
    from erased_records
    inner join identifiers
        on erased_records.record_key = identifiers.record_key
),

unioned as (
    select
        'customer_id' as identifier_type,
        person_id as identifier_value
    from erased_records
    union all
    select
        erased_records.source || '_id' as identifier_type,
        erased_records.source_customer_id as identifier_value
    from erased_records
    union all
    select
        identifier_type,
        identifier_value
    from record_identifiers
    union all
    select
        identifier_type || '_sha256' as identifier_type,
        {{ sha256_hex('identifier_value') }} as identifier_value
    from record_identifiers
    where identifier_type in ('email', 'phone')
    union all
    select
        'email' as identifier_type,
        customers.email as identifier_value
    from erased_records
    inner join customers
        on
            erased_records.source = 'shop'
            and erased_records.source_customer_id = customers.customer_id
    union all
    select
        'phone' as identifier_type,
        customers.phone as identifier_value
    from erased_records
    inner join customers
        on
            erased_records.source = 'shop'
            and erased_records.source_customer_id = customers.customer_id
    union all
    select
        'requested_' || identifier_type as identifier_type,
        identifier_value
    from matched
),

final as (
    select distinct
        identifier_type,
        identifier_value
    from unioned
    where identifier_value is not null
)

select * from final
