{#- The three cut-offs of the supervised churn score, var churn.window_days apart:
    train (as_of_date - 2 windows), test (as_of_date - 1 window) and score (as_of_date). -#}
{%- set window_days = var('churn.window_days') | int -%}
{%- if window_days <= 0 -%}
    {{ exceptions.raise_compiler_error("var churn.window_days must be a positive number of days, not " ~ window_days) }}
{%- endif -%}

with

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

final as (
    select
        cast({{ dbt.dateadd('day', -2 * window_days, 'as_of_date') }} as date) as train_cutoff_date,
        cast({{ dbt.dateadd('day', -window_days, 'as_of_date') }} as date) as test_cutoff_date,
        as_of_date as score_cutoff_date,
        {{ window_days }} as window_days,
        as_of_date
    from as_of
)

select * from final
