{#- Groups of customer records (shop accounts, loyalty cards) joined by accepted links, found by label propagation in
    SQL (the connected_components materialization: passes repeat until nothing changes,
    and the run stops with an error if var identity.max_iterations passes do not
    suffice). One row per record with at least one accepted link; component_key is the
    smallest record_key of its group. -#}
{{
    config(
        materialized='connected_components',
        max_iterations=var('identity.max_iterations'),
    )
}}

with

links as (
    select * from {{ ref('int_identity_links_proposed') }}
),

final as (
    select
        record_key_l as node_key,
        record_key_r as neighbour_key
    from links
    where is_accepted
)

select * from final
