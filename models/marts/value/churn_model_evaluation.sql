{#- How well the supervised churn score separates churners, measured out of time, next to
    the baselines it has to beat (int_churn_models_evaluated is the dbt Python model). -#}
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
        as_of_date
    from evaluated
)

select * from final
