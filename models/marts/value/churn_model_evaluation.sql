{#- How well each churn candidate separates churners, measured out of time, and which one
    is published (int_churn_models_evaluated is the dbt Python model). New columns go
    after the original ones, so the contract only grows. -#}
with

evaluated as (
    select * from {{ ref('int_churn_models_evaluated') }}
),

final as (
    select
        model_name,
        auc,
        precision_at_top_decile,
        lift_at_top_decile,
        churn_rate,
        n_training_customers,
        n_test_customers,
        train_cutoff_date,
        test_cutoff_date,
        window_days,
        message,
        as_of_date,
        candidate_kind,
        brier_score,
        is_evaluable,
        is_champion,
        champion_reason
    from evaluated
)

select * from final
