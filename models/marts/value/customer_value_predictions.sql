{#- Every customer's predicted future, as of as_of_date: the BG/NBD and Gamma-Gamma
    predictions (int_customer_clv_predicted), the predicted-value tier and churn-risk
    level of the segment registry, and the published churn score with its model and
    drivers. Prospects and runs whose models could not be fitted have null predictions and
    'Not predicted'. churn_model and churn_drivers come last: the contract only grows. -#}
with

assigned as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

features as (
    select * from {{ ref('int_segment_features') }}
),

summary as (
    select * from {{ ref('int_customer_clv_summary') }}
),

predictions as (
    select * from {{ ref('int_customer_clv_predicted') }}
),

churn_scores as (
    select * from {{ ref('int_customer_churn_scored') }}
),

final as (
    select
        assigned.customer_id,
        summary.frequency,
        summary.recency,
        summary.age,
        summary.monetary_value,
        summary.time_unit,
        predictions.p_alive,
        predictions.expected_purchases,
        predictions.expected_average_value,
        predictions.predicted_clv,
        features.clv_percentile,
        assigned.predicted_value_segment,
        assigned.churn_risk_level,
        churn_scores.churn_score,
        features.days_since_last_order,
        cast({{ var('clv.horizon_days') | int }} as {{ dbt.type_int() }}) as horizon_days,
        cast({{ var('churn.window_days') | int }} as {{ dbt.type_int() }}) as churn_window_days,
        assigned.has_any_marketing_consent,
        assigned.as_of_date,
        cast(churn_scores.churn_model as {{ dbt.type_string() }}) as churn_model,
        cast(churn_scores.churn_drivers as {{ dbt.type_string() }}) as churn_drivers
    from assigned
    inner join features
        on assigned.customer_id = features.customer_id
    left join summary
        on assigned.customer_id = summary.customer_id
    left join predictions
        on assigned.customer_id = predictions.customer_id
    left join churn_scores
        on assigned.customer_id = churn_scores.customer_id
)

select * from final
