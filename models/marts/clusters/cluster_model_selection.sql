{#- How the number of clusters was chosen: silhouette (on a seeded sample) and inertia per
    candidate k, the chosen one flagged; with var clusters.k set, only that k. -#}
with

model as (
    select * from {{ ref('int_cluster_model') }}
),

final as (
    select
        k,
        silhouette,
        inertia,
        is_chosen_k,
        sample_size,
        as_of_date
    from model
    where component = 'selection'
)

select * from final
