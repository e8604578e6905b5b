{#- The robust scaling of the stored cluster model: scaled = (value - center) / scale,
    a missing value counting as the center. Features the model dropped have no row. -#}
with

model as (
    select * from {{ ref('int_cluster_model') }}
),

final as (
    select
        feature,
        center,
        scale,
        as_of_date
    from model
    where component = 'scaler'
)

select * from final
