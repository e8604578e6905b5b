{#- Every source record with the person it belongs to, after erasure: the people of
    int_identity_records_linked, except that every record of an erased person
    (int_erased_records) belongs to the anonymous placeholder erased_customer_id(). This
    is the one place erasure reaches the marts: every person-level model reads its
    customer_id from here, so an erased person's orders stay in the facts under the
    placeholder (totals unchanged) and the person is in no customer-level output. -#}
with

linked as (
    select * from {{ ref('int_identity_records_linked') }}
),

erased_records as (
    select * from {{ ref('int_erased_records') }}
),

erased_applied as (
    select
        linked.record_key,
        linked.source,
        linked.source_customer_id,
        case
            when erased_records.record_key is not null then {{ erased_customer_id() }}
            else linked.customer_id
        end as customer_id,
        linked.is_customer_record,
        linked.is_customer,
        linked.group_status,
        linked.link_rule,
        linked.match_probability,
        case
            when erased_components.record_key is not null then {{ erased_customer_id() }}
            else linked.component_key
        end as component_key,
        linked.component_record_count,
        linked.first_seen_at,
        erased_records.record_key is not null as is_erased
    from linked
    left join erased_records
        on linked.record_key = erased_records.record_key
    -- a group's key is the key of one of its records: never show an erased one
    left join erased_records as erased_components
        on linked.component_key = erased_components.record_key
),

final as (
    select
        *,
        count(*) over (partition by customer_id) as person_record_count
    from erased_applied
)

select * from final
