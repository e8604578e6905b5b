{#- One row per active cluster and feature: the cluster's mean of the feature (original
    units: logs are ln(1 + value)), the population's mean and standard deviation, and the
    z-score (cluster mean - population mean) / population standard deviation that the
    cluster labels are built from. Rounded to 10 decimals: a sum of floating-point values
    depends on the order of its rows in the last bits, and the results must not. -#}
{%- set features = var('clusters.features') -%}

with

features as (
    select * from {{ ref('int_customer_cluster_features') }}
),

assigned as (
    select * from {{ ref('int_customer_clusters_assigned') }}
),

used_features as (
    select feature
    from {{ ref('int_cluster_model') }}
    where component = 'scaler'
),

long_features as (
    {%- for feature in features %}
        select
            customer_id,
            {{ text_literal(feature) }} as feature,
            cast({{ feature }} as {{ type_ratio() }}) as feature_value
        from features
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

population as (
    select
        long_features.feature,
        avg(long_features.feature_value) as population_mean,
        stddev_pop(long_features.feature_value) as population_stddev
    from long_features
    inner join used_features
        on long_features.feature = used_features.feature
    group by long_features.feature
),

cluster_means as (
    select
        assigned.cluster_id,
        assigned.cluster_label,
        long_features.feature,
        avg(long_features.feature_value) as cluster_mean,
        max(assigned.as_of_date) as as_of_date
    from long_features
    inner join assigned
        on long_features.customer_id = assigned.customer_id
    group by assigned.cluster_id, assigned.cluster_label, long_features.feature
),

final as (
    select
        cluster_means.cluster_id,
        cluster_means.cluster_label,
        cluster_means.feature,
        round(cluster_means.cluster_mean, 10) as cluster_mean,
        round(population.population_mean, 10) as population_mean,
        round(population.population_stddev, 10) as population_stddev,
        round(
            (cluster_means.cluster_mean - population.population_mean)
            / nullif(population.population_stddev, 0),
            10
        ) as z_score,
        cluster_means.as_of_date
    from cluster_means
    inner join population
        on cluster_means.feature = population.feature
)

select * from final
