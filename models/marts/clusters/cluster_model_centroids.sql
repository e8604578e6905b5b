{#- The stored centroids, one row per cluster and feature, in scaled and original units,
    with the cluster's stable id, label and status. Retired clusters (ids no longer
    matched by any centroid) stay on record with the date they were retired. -#}
with

model as (
    select * from {{ ref('int_cluster_model') }}
),

final as (
    select
        cluster_id,
        cluster_label,
        cluster_status,
        feature,
        centroid_scaled,
        centroid_original,
        cluster_size,
        cluster_share,
        first_seen_date,
        retired_date,
        as_of_date
    from model
    where component = 'centroid'
)

select * from final
