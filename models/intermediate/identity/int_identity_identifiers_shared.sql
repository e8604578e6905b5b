{#- Identifier values held by more than one customer record (account or card), and
    whether they may link them: a value held by more than var
    identity.max_records_per_identifier records (a shared family phone, test@test.com, a
    till's house card) identifies nobody, links nothing and is listed in identity_audit.
    Anonymous ids are not here: a visitor never links two customers, it only joins the
    one person it logged in as (int_identity_records_resolved). -#}
{%- set max_records = var('identity.max_records_per_identifier') | int -%}

with

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

records as (
    select * from {{ ref('int_identity_records') }}
),

counted as (
    select
        identifiers.identifier_type,
        identifiers.identifier_value,
        count(*) as record_count,
        sum(case when records.source = 'shop' then 1 else 0 end) as account_count
    from identifiers
    inner join records
        on identifiers.record_key = records.record_key
    where identifiers.identifier_type <> 'anonymous_id'
    group by identifiers.identifier_type, identifiers.identifier_value
    having count(*) > 1
),

final as (
    select
        identifier_type,
        identifier_value,
        record_count,
        account_count,
        case
            when record_count > {{ max_records }} then 'shared_by_too_many_records'
        end as block_reason
    from counted
)

select * from final
