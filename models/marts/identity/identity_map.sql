{#- One row per source record (shop account, loyalty card seen at a till, web visitor's
    anonymous id) with the person it was resolved to: customer_id is the key every mart
    uses for that person. Records of erased people are left out. Records of people who are not customers (web visitors linked to
    no account) are here too, so every record is accounted for exactly once. -#}
with

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    -- an erased person's records are gone (their orders stay in fct_orders under the placeholder)
    where not is_erased
),

final as (
    select
        source,
        source_customer_id,
        customer_id,
        is_customer,
        group_status,
        link_rule,
        cast(match_probability as {{ type_ratio() }}) as match_probability,
        cast(person_record_count as {{ dbt.type_bigint() }}) as person_record_count,
        first_seen_at
    from resolved
)

select * from final
