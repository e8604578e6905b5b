{#- The fitted lifetime-value models as BI and analysts read them: one row per model and
    parameter (int_clv_models_fitted is the dbt Python model that fits them). -#}
with

fitted as (
    select * from {{ ref('int_clv_models_fitted') }}
),

final as (
    select
        model_name,
        parameter,
        value,
        log_likelihood,
        n_customers,
        converged,
        message,
        as_of_date,
        time_unit
    from fitted
)

select * from final
