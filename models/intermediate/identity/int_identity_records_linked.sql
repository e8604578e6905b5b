{#- Every source record with the person it belongs to.

    Customer records (shop accounts and loyalty cards): a group of linked records
    (int_identity_components) becomes one person, unless it holds more than var
    identity.max_group_size records or both records of a never-merge pair; then nothing
    in it is merged (each record stays its own person) and identity_audit lists it. A
    person's customer_id is the id of its earliest-seen record (ties: shop before pos,
    then the smaller key), so it stays the same while the group grows: a shop account
    keeps its own customer_id, a card gets its source as a prefix (`pos:LC0001`).

    Web visitors join afterwards, as leaves: an anonymous id belongs to the one person
    whose accounts it was logged in under. Logged in under accounts of several people, it
    is a shared device and joins nobody (unmerged_shared_device); never logged in, it is
    a visitor of its own (`web:` and the anonymous id). A visitor never links two
    customers. -#}
{%- set max_group_size = var('identity.max_group_size') | int -%}

with

records as (
    select * from {{ ref('int_identity_records') }}
),

identifiers as (
    select * from {{ ref('int_identity_identifiers') }}
),

components as (
    select * from {{ ref('int_identity_components') }}
),

links as (
    select * from {{ ref('int_identity_links_proposed') }}
    where is_accepted
),

never_merge as (
    select * from {{ ref('stg_reference__identity_never_merge') }}
),

customer_records as (
    select
        records.*,
        coalesce(components.component_key, records.record_key) as component_key
    from records
    left join components
        on records.record_key = components.node_key
    where records.is_customer_record
),

component_sizes as (
    select
        component_key,
        count(*) as record_count
    from customer_records
    group by component_key
),

never_merge_conflicts as (
    select distinct records_l.component_key
    from never_merge
    inner join customer_records as records_l
        on never_merge.record_key_l = records_l.record_key
    inner join customer_records as records_r
        on never_merge.record_key_r = records_r.record_key
    where records_l.component_key = records_r.component_key
),

judged as (
    select
        customer_records.*,
        component_sizes.record_count as component_record_count,
        case
            when component_sizes.record_count = 1 then 'single'
            when never_merge_conflicts.component_key is not null then 'unmerged_never_merge'
            when component_sizes.record_count > {{ max_group_size }} then 'unmerged_oversized'
            else 'merged'
        end as group_status
    from customer_records
    inner join component_sizes
        on customer_records.component_key = component_sizes.component_key
    left join never_merge_conflicts
        on customer_records.component_key = never_merge_conflicts.component_key
),

customers_anchored as (
    select
        judged.*,
        first_value(case when judged.source = 'shop' then judged.source_customer_id else judged.record_key end) over (
            partition by case when judged.group_status = 'merged' then judged.component_key else judged.record_key end
            order by
                case when judged.first_seen_at is null then 1 else 0 end,
                judged.first_seen_at,
                judged.source_rank,
                judged.record_key
            rows between unbounded preceding and unbounded following
        ) as customer_id
    from judged
),

record_links as (
    select
        record_key_l as record_key,
        link_rule,
        match_probability
    from links
    union all
    select
        record_key_r as record_key,
        link_rule,
        match_probability
    from links
),

best_links as (
    select
        record_key,
        link_rule,
        match_probability,
        row_number() over (
            partition by record_key
            order by
                case link_rule
                    when 'email' then 1
                    when 'phone' then 2
                    when 'loyalty_card' then 3
                    else 4
                end,
                match_probability desc
        ) as link_rank
    from record_links
),

customers_resolved as (
    select
        customers_anchored.record_key,
        customers_anchored.source,
        customers_anchored.source_customer_id,
        customers_anchored.customer_id,
        customers_anchored.is_customer_record,
        true as is_customer,
        customers_anchored.group_status,
        case when customers_anchored.group_status = 'merged' then best_links.link_rule end as link_rule,
        case when customers_anchored.group_status = 'merged' then best_links.match_probability end
            as match_probability,
        customers_anchored.component_key,
        customers_anchored.component_record_count,
        customers_anchored.first_seen_at
    from customers_anchored
    left join best_links
        on
            customers_anchored.record_key = best_links.record_key
            and best_links.link_rank = 1
),

visitor_logins as (
    select
        identifiers.identifier_value as anonymous_id,
        count(distinct customers_resolved.customer_id) as person_count,
        min(customers_resolved.customer_id) as customer_id
    from identifiers
    inner join customers_resolved
        on identifiers.record_key = customers_resolved.record_key
    where
        identifiers.identifier_type = 'anonymous_id'
        and customers_resolved.source = 'shop'
    group by identifiers.identifier_value
),

visitors_resolved as (
    select
        records.record_key,
        records.source,
        records.source_customer_id,
        case when visitor_logins.person_count = 1 then visitor_logins.customer_id else records.record_key end
            as customer_id,
        records.is_customer_record,
        coalesce(visitor_logins.person_count = 1, false) as is_customer,
        case
            when visitor_logins.person_count = 1 then 'merged'
            when visitor_logins.person_count > 1 then 'unmerged_shared_device'
            else 'single'
        end as group_status,
        case when visitor_logins.person_count = 1 then 'web_login' end as link_rule,
        cast(null as {{ dbt.type_float() }}) as match_probability,
        records.record_key as component_key,
        cast(coalesce(visitor_logins.person_count, 0) + 1 as {{ dbt.type_bigint() }}) as component_record_count,
        records.first_seen_at
    from records
    left join visitor_logins
        on records.source_customer_id = visitor_logins.anonymous_id
    where not records.is_customer_record
),

unioned as (
    select * from customers_resolved
    union all
    select * from visitors_resolved
),

final as (
    select
        *,
        count(*) over (partition by customer_id) as person_record_count
    from unioned
)

select * from final
