{#- The winsorised scaling of the stored cluster model:
    scaled = (least(greatest(value, lower_bound), upper_bound) - center) / scale, a missing
    value counting as 0 (the mean). Features the model dropped have no row. -#}
with

model as (
    select * from {{ ref('int_cluster_model') }}
),

final as (
    select
        feature,
        lower_bound,
        upper_bound,
        center,
        scale,
        as_of_date
    from model
    where component = 'scaler'
)

select * from final
