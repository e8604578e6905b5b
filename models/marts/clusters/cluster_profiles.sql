{#- One row per active cluster: size, share of purchasers, revenue (net spend) share and
    the generated label; the per-feature means and z-scores are in
    cluster_feature_profiles. -#}
with

assigned as (
    select * from {{ ref('int_customer_clusters_assigned') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

clusters as (
    select
        assigned.cluster_id,
        assigned.cluster_label,
        count(*) as customer_count,
        sum(customers.net_spend) as revenue,
        max(assigned.as_of_date) as as_of_date
    from assigned
    inner join customers
        on assigned.customer_id = customers.customer_id
    group by assigned.cluster_id, assigned.cluster_label
),

final as (
    select
        cluster_id,
        cluster_label,
        customer_count,
        cast(customer_count as {{ type_ratio() }}) / sum(customer_count) over () as customer_share,
        cast(revenue as {{ type_money() }}) as revenue,
        cast(revenue as {{ type_ratio() }}) / nullif(sum(revenue) over (), 0) as revenue_share,
        as_of_date
    from clusters
)

select * from final
