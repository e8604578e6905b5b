{#- What identity resolution refused and why, and what each rule did: one row per
    blocked identifier value (shared by too many records, or an anonymous id logged into
    several accounts), per group left unmerged (too large, or holding a never-merge
    pair), per refused kind of link, and per rule that linked records. Identifier values
    are shown masked (first characters and the email domain), never in full. -#}
with

shared as (
    select * from {{ ref('int_identity_identifiers_shared') }}
    where block_reason is not null
),

links as (
    select * from {{ ref('int_identity_links_proposed') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
),

blocked_identifiers as (
    select
        'blocked_identifier' as audit_kind,
        identifier_type as link_rule,
        block_reason as reason,
        case
            when identifier_type = 'email'
                then substring(identifier_value, 1, 2) || '...@'
                    || {{ dbt.split_part('identifier_value', "'@'", 2) }}
            else substring(identifier_value, 1, 4) || '...'
        end as subject,
        cast(record_count as {{ dbt.type_bigint() }}) as record_count,
        cast(null as {{ dbt.type_bigint() }}) as link_count
    from shared
    union all
    select
        'blocked_identifier' as audit_kind,
        'anonymous_id' as link_rule,
        'shared_device' as reason,
        substring(source_customer_id, 1, 4) || '...' as subject,
        cast(component_record_count - 1 as {{ dbt.type_bigint() }}) as record_count,
        cast(null as {{ dbt.type_bigint() }}) as link_count
    from resolved
    where group_status = 'unmerged_shared_device' and not is_erased
),

unmerged_groups as (
    select
        'unmerged_group' as audit_kind,
        cast(null as {{ dbt.type_string() }}) as link_rule,
        group_status as reason,
        component_key as subject,
        cast(count(*) as {{ dbt.type_bigint() }}) as record_count,
        cast(null as {{ dbt.type_bigint() }}) as link_count
    from resolved
    where group_status in ('unmerged_oversized', 'unmerged_never_merge')
    group by group_status, component_key
),

refused_links as (
    select
        'refused_link' as audit_kind,
        link_rule,
        refusal_reason as reason,
        cast(null as {{ dbt.type_string() }}) as subject,
        cast(null as {{ dbt.type_bigint() }}) as record_count,
        cast(count(*) as {{ dbt.type_bigint() }}) as link_count
    from links
    where not is_accepted
    group by link_rule, refusal_reason
),

rule_links as (
    select
        link_rule,
        count(*) as link_count
    from links
    where is_accepted
    group by link_rule
),

rule_records as (
    select
        link_rule,
        count(*) as record_count
    from resolved
    where link_rule is not null
    group by link_rule
),

rule_summaries as (
    select
        'rule_summary' as audit_kind,
        rule_links.link_rule,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_string() }}) as subject,
        cast(coalesce(rule_records.record_count, 0) as {{ dbt.type_bigint() }}) as record_count,
        cast(rule_links.link_count as {{ dbt.type_bigint() }}) as link_count
    from rule_links
    left join rule_records
        on rule_links.link_rule = rule_records.link_rule
),

final as (
    select * from rule_summaries
    union all
    select * from refused_links
    union all
    select * from unmerged_groups
    union all
    select * from blocked_identifiers
)

select * from final
