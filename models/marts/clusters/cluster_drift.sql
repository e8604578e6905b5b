{#- Drift of this run's clusters against the previous run's: share change (in points,
    0.01 = 1 point) and centroid shift (Euclidean, scaled units) per cluster id. New
    clusters have no previous share; retired ones have no current share. Empty on the
    first run of a warehouse. -#}
with

model as (
    select * from {{ ref('int_cluster_model') }}
),

final as (
    select
        cluster_id,
        cluster_label,
        drift_status,
        previous_share,
        cluster_share,
        share_change,
        centroid_shift,
        previous_as_of_date,
        as_of_date
    from model
    where component = 'drift'
)

select * from final
