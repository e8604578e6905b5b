{#- Every purchaser's cluster: the nearest active centroid of the stored model
    (int_cluster_model) by squared Euclidean distance in scaled units, ties to the lower
    cluster id. Plain SQL over the model tables, so new or changed customers are scored
    without Python and on any warehouse. Values are clipped to the stored bounds and
    standardised as the model did; a missing value counts as the mean (0 once scaled). A
    feature the model dropped has no scaler row: its scaled value and centroid are null and
    it adds nothing to the distance. -#}
{%- set features = var('clusters.features') -%}

with

features as (
    select * from {{ ref('int_customer_cluster_features') }}
),

model as (
    select * from {{ ref('int_cluster_model') }}
),

scaler as (
    select
        {%- for feature in features %}
            max(case when feature = {{ text_literal(feature) }} then lower_bound end) as {{ feature }}_lower,
            max(case when feature = {{ text_literal(feature) }} then upper_bound end) as {{ feature }}_upper,
            max(case when feature = {{ text_literal(feature) }} then center end) as {{ feature }}_center,
            max(case when feature = {{ text_literal(feature) }} then scale end) as {{ feature }}_scale,
        {%- endfor %}
        count(*) as used_feature_count
    from model
    where component = 'scaler'
),

centroids as (
    select
        {%- for feature in features %}
            max(case when feature = {{ text_literal(feature) }} then centroid_scaled end) as {{ feature }},
        {%- endfor %}
        cluster_id,
        cluster_label
    from model
    where component = 'centroid' and cluster_status = 'active'
    group by cluster_id, cluster_label
),

scaled as (
    select
        features.customer_id,
        {%- for feature in features %}
            {#- least and greatest skip nulls, so a missing value is handled first #}
            case
                when scaler.{{ feature }}_scale is null then null
                when features.{{ feature }} is null then 0
                else (
                    least(greatest(features.{{ feature }}, scaler.{{ feature }}_lower), scaler.{{ feature }}_upper)
                    - scaler.{{ feature }}_center
                ) / scaler.{{ feature }}_scale
            end as {{ feature }},
        {%- endfor %}
        features.as_of_date
    from features
    cross join scaler
),

distances as (
    select
        scaled.customer_id,
        centroids.cluster_id,
        centroids.cluster_label,
        (
            0
            {%- for feature in features %}
                + coalesce(
                    (scaled.{{ feature }} - centroids.{{ feature }}) * (scaled.{{ feature }} - centroids.{{ feature }}), 0
                )
            {%- endfor %}
        ) as squared_distance,
        scaled.as_of_date
    from scaled
    cross join centroids
),

ranked as (
    select
        *,
        row_number() over (partition by customer_id order by squared_distance, cluster_id) as distance_rank
    from distances
),

final as (
    select
        customer_id,
        cluster_id,
        cluster_label,
        squared_distance,
        as_of_date
    from ranked
    where distance_rank = 1
)

select * from final
