{#- Every purchaser's behavioural cluster as of as_of_date, from the SQL assignment to the
    nearest stored centroid (int_customer_clusters_assigned). -#}
with

assigned as (
    select * from {{ ref('int_customer_clusters_assigned') }}
),

final as (
    select
        customer_id,
        cluster_id,
        cluster_label,
        squared_distance,
        as_of_date
    from assigned
)

select * from final
