{#- Every erasure request that names someone, matched to the people it erases: by shop
    customer id (an account's id, or a person's customer_id as published) and by
    normalised email (every record holding it). One row per request and identifier it
    gives, and per person matched (none: person_id null). Every request in the data
    applies, whatever the as_of_date: a backfill to an earlier date never brings an erased
    person back. Requests are read from base_crm__erasure_requests, so one that names
    someone but breaks the contract otherwise (an unreadable requested_at) still applies.
    Matching reads int_identity_records_linked, the people before erasure. -#}
with

requests as (
    select * from {{ ref('base_crm__erasure_requests') }}
    where customer_id is not null or email is not null
),

linked as (
    select * from {{ ref('int_identity_records_linked') }}
),

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

request_identifiers as (
    select
        request_id,
        'customer_id' as identifier_type,
        customer_id as identifier_value,
        requested_at
    from requests
    where customer_id is not null
    union all
    select
        request_id,
        'email' as identifier_type,
        email as identifier_value,
        requested_at
    from requests
    where email is not null
),

matched_by_customer_id as (
    select distinct
        request_identifiers.request_id,
        request_identifiers.identifier_type,
        request_identifiers.identifier_value,
        linked.customer_id as person_id
    from request_identifiers
    inner join linked
        on
            (
                (linked.source = 'shop' and request_identifiers.identifier_value = linked.source_customer_id)
                or request_identifiers.identifier_value = linked.customer_id
            )
    where request_identifiers.identifier_type = 'customer_id'
),

matched_by_email as (
    select distinct
        request_identifiers.request_id,
        request_identifiers.identifier_type,
        request_identifiers.identifier_value,
        linked.customer_id as person_id
    from request_identifiers
    inner join identifiers
        on
            identifiers.identifier_type = 'email'
            and request_identifiers.identifier_value = identifiers.identifier_value
    inner join linked
        on identifiers.record_key = linked.record_key
    where request_identifiers.identifier_type = 'email'
),

matched as (
    select * from matched_by_customer_id
    union all
    select * from matched_by_email
),

person_records as (
    select
        customer_id as person_id,
        count(*) as record_count
    from linked
    group by customer_id
),

final as (
    select
        request_identifiers.request_id,
        request_identifiers.identifier_type,
        request_identifiers.identifier_value,
        {{ erasure_hash('request_identifiers.identifier_type', 'request_identifiers.identifier_value') }}
            as erasure_hash,
        matched.person_id,
        matched.person_id is not null as is_matched,
        cast(coalesce(person_records.record_count, 0) as {{ dbt.type_bigint() }}) as person_record_count,
        request_identifiers.requested_at
    from request_identifiers
    left join matched
        on
            request_identifiers.request_id = matched.request_id
            and request_identifiers.identifier_type = matched.identifier_type
            and request_identifiers.identifier_value = matched.identifier_value
    left join person_records
        on matched.person_id = person_records.person_id
)

select * from final
