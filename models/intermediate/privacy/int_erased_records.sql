{#- Every source record erased: all records of every person an erasure request matched
    (int_erasure_requests_matched), plus any loyalty card or web visitor record whose own
    id is an identifier of one of them and that is nobody else's (a card or a device the
    person used that identity resolution kept apart, such as a shared device). int_identity_records_resolved maps
    these records to the erased placeholder. -#}
with

matched as (
    select * from {{ ref('int_erasure_requests_matched') }}
    where is_matched
),

linked as (
    select * from {{ ref('int_identity_records_linked') }}
),

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

erased_people as (
    select distinct person_id from matched
),

person_records as (
    select
        linked.record_key,
        linked.source,
        linked.source_customer_id,
        linked.customer_id as person_id
    from linked
    inner join erased_people
        on linked.customer_id = erased_people.person_id
),

used_records as (
    select distinct
        linked.record_key,
        linked.source,
        linked.source_customer_id,
        linked.customer_id as person_id
    from person_records
    inner join identifiers
        on person_records.record_key = identifiers.record_key
    inner join linked
        on
            (
                (linked.source = 'pos' and identifiers.identifier_type = 'loyalty_card')
                or (linked.source = 'web' and identifiers.identifier_type = 'anonymous_id')
            )
            and identifiers.identifier_value = linked.source_customer_id
    -- only a card or visitor that is a person of its own; one merged into someone else
    -- belongs to that person
    where linked.customer_id = linked.record_key
),

unioned as (
    select * from person_records
    union
    select * from used_records
),

final as (
    select * from unioned
)

select * from final
