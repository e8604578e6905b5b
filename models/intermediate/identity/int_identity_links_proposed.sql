{#- Every candidate link between two customer records (shop accounts and loyalty cards),
    once per pair and rule, with the reason it was refused, if it was. Deterministic
    rules link records sharing an identifier value (email, phone, loyalty_card; web
    visitors join people later, in int_identity_records_resolved); probabilistic matches come
    from int_identity_probabilistic_matches. Refused: a value that identifies nobody
    (int_identity_identifiers_shared), a pair in seeds/identity_never_merge.csv, and a
    deterministic link between two accounts whose known birth dates differ or whose
    known first names are more than two edits apart (a couple sharing an email, a
    family sharing a phone). -#}
with

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

shared as (
    select * from {{ ref('int_identity_identifiers_shared') }}
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

never_merge as (
    select * from {{ ref('stg_reference__identity_never_merge') }}
),

holders as (
    select
        identifiers.record_key,
        identifiers.identifier_type,
        identifiers.identifier_value,
        shared.block_reason
    from identifiers
    inner join shared
        on
            identifiers.identifier_type = shared.identifier_type
            and identifiers.identifier_value = shared.identifier_value
),

deterministic_pairs as (
    select distinct
        holders_l.record_key as record_key_l,
        holders_r.record_key as record_key_r,
        holders_l.identifier_type as link_rule,
        cast(null as {{ dbt.type_float() }}) as match_probability
    from holders as holders_l
    inner join holders as holders_r
        on
            holders_l.identifier_type = holders_r.identifier_type
            and holders_l.identifier_value = holders_r.identifier_value
            and holders_l.record_key < holders_r.record_key
    where holders_l.block_reason is null
),

{%- if var('identity.probabilistic') %}

    probabilistic_pairs as (
        select
            record_key_l,
            record_key_r,
            'probabilistic' as link_rule,
            cast(match_probability as {{ dbt.type_float() }}) as match_probability
        from {{ ref('int_identity_probabilistic_matches') }}
    ),
{%- endif %}

pairs as (
    select * from deterministic_pairs
    {%- if var('identity.probabilistic') %}
        union all
        select * from probabilistic_pairs
    {%- endif %}
),

account_traits as (
    select
        'shop:' || customer_id as record_key,
        lower(first_name) as first_name,
        birth_date
    from customers
),

judged as (
    select
        pairs.record_key_l,
        pairs.record_key_r,
        pairs.link_rule,
        pairs.match_probability,
        case
            when never_merge.record_key_l is not null then 'never_merge'
            when pairs.link_rule = 'probabilistic' then null
            when traits_l.birth_date <> traits_r.birth_date then 'conflicting_birth_date'
            when {{ edit_distance('traits_l.first_name', 'traits_r.first_name') }} > 2
                then 'conflicting_first_name'
        end as refusal_reason
    from pairs
    left join account_traits as traits_l
        on pairs.record_key_l = traits_l.record_key
    left join account_traits as traits_r
        on pairs.record_key_r = traits_r.record_key
    left join never_merge
        on
            pairs.record_key_l = never_merge.record_key_l
            and pairs.record_key_r = never_merge.record_key_r
),

final as (
    select
        record_key_l,
        record_key_r,
        link_rule,
        match_probability,
        refusal_reason,
        refusal_reason is null as is_accepted
    from judged
)

select * from final
