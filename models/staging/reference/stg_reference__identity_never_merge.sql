{#- Pairs of source records that must never be one person (seeds/identity_never_merge.csv),
    as record keys in a fixed order so each pair is one row whichever way it was entered. -#}
with

never_merge as (
    select * from {{ ref('identity_never_merge') }}
),

keyed as (
    select
        lower(trim(source_a)) || ':' || trim(source_customer_id_a) as record_key_a,
        lower(trim(source_b)) || ':' || trim(source_customer_id_b) as record_key_b,
        reason
    from never_merge
),

final as (
    select distinct
        case when record_key_a < record_key_b then record_key_a else record_key_b end as record_key_l,
        case when record_key_a < record_key_b then record_key_b else record_key_a end as record_key_r,
        reason
    from keyed
    where record_key_a <> record_key_b
)

select * from final
