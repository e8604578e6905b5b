{#- How well the lifetime-value predictions made as of as_of_date describe the holdout
    period after it, in one row (none when there is no data after as_of_date): totals and
    their ratio, the mean absolute error of per-customer transactions, Spearman rank
    correlations and the Gini coefficient of realised spend ordered by predicted CLV.

    Set-based: each rank and cumulative sum is one window over the per-customer rows, so
    the cost is a few sorts of the customers. Ties share a value's average rank (Spearman)
    and are one step of the cumulative curve (Gini), so no result depends on the order of
    customers with equal values. -#}
with

backtested as (
    select * from {{ ref('int_customer_clv_backtested') }}
),

totals as (
    select
        count(*) as customers,
        sum(predicted_transactions) as predicted_transactions,
        sum(actual_transactions) as actual_transactions,
        sum(predicted_value) as predicted_value,
        sum(actual_spend) as actual_spend,
        holdout_days,
        holdout_start_date,
        holdout_end_date,
        as_of_date
    from backtested
    group by holdout_days, holdout_start_date, holdout_end_date, as_of_date
),

transaction_ranks as (
    {# Average rank = the first rank of the value plus half the other customers sharing it. -#}
    select
        cast(
            rank() over (order by predicted_transactions)
            + (count(*) over (partition by predicted_transactions) - 1) / 2.0
            as {{ type_ratio() }}
        ) as predicted_transactions_rank,
        cast(
            rank() over (order by actual_transactions)
            + (count(*) over (partition by actual_transactions) - 1) / 2.0
            as {{ type_ratio() }}
        ) as actual_transactions_rank,
        abs(predicted_transactions - actual_transactions) as transactions_absolute_error
    from backtested
    where predicted_transactions is not null
),

transaction_metrics as (
    select
        avg(transactions_absolute_error) as transactions_mean_absolute_error,
        corr(predicted_transactions_rank, actual_transactions_rank) as spearman_transactions
    from transaction_ranks
),

clv_curve as (
    {# Customers in descending predicted CLV (and, for the perfect ordering, descending
       realised spend); the range frame makes tied customers one step of the curve. -#}
    select
        cast(actual_spend as {{ type_ratio() }}) as customer_spend,
        cast(
            rank() over (order by predicted_clv desc)
            + (count(*) over (partition by predicted_clv) - 1) / 2.0
            as {{ type_ratio() }}
        ) as predicted_clv_rank,
        cast(
            rank() over (order by actual_spend desc)
            + (count(*) over (partition by actual_spend) - 1) / 2.0
            as {{ type_ratio() }}
        ) as actual_spend_rank,
        cast(
            sum(actual_spend) over (
                order by predicted_clv desc
                range between unbounded preceding and current row
            ) as {{ type_ratio() }}
        ) as clv_ordered_cumulative_spend,
        cast(sum(actual_spend) over (partition by predicted_clv) as {{ type_ratio() }}) as clv_tie_spend,
        cast(
            sum(actual_spend) over (
                order by actual_spend desc
                range between unbounded preceding and current row
            ) as {{ type_ratio() }}
        ) as spend_ordered_cumulative_spend,
        cast(sum(actual_spend) over (partition by actual_spend) as {{ type_ratio() }}) as spend_tie_spend
    from backtested
    where predicted_clv is not null
),

clv_areas as (
    {# Area under the curve, times 2 n S: every customer adds the curve's mean height over
       its step, (cumulative share before + after) / 2; within a tie the cumulative spend is
       taken at the tie's end, minus the tie's spend for its start. -#}
    select
        count(*) as clv_customers,
        sum(customer_spend) as clv_total_spend,
        corr(predicted_clv_rank, actual_spend_rank) as spearman_clv_vs_spend,
        sum(2 * clv_ordered_cumulative_spend - clv_tie_spend) as clv_ordered_area,
        sum(2 * spend_ordered_cumulative_spend - spend_tie_spend) as spend_ordered_area
    from clv_curve
),

clv_metrics as (
    select
        spearman_clv_vs_spend,
        case
            when clv_total_spend > 0
                then clv_ordered_area / (clv_customers * clv_total_spend) - 1
        end as gini_clv,
        case
            when clv_total_spend > 0
                then spend_ordered_area / (clv_customers * clv_total_spend) - 1
        end as perfect_gini
    from clv_areas
),

final as (
    select
        cast(totals.customers as {{ dbt.type_bigint() }}) as customers,
        cast(totals.predicted_transactions as {{ type_ratio() }}) as predicted_transactions,
        cast(totals.actual_transactions as {{ dbt.type_bigint() }}) as actual_transactions,
        case
            when totals.actual_transactions > 0
                then cast(totals.predicted_transactions as {{ type_ratio() }}) / totals.actual_transactions
        end as predicted_to_actual_transactions,
        cast(totals.predicted_value as {{ type_ratio() }}) as predicted_value,
        cast(totals.actual_spend as {{ type_money() }}) as actual_spend,
        case
            when totals.actual_spend > 0
                then cast(totals.predicted_value as {{ type_ratio() }}) / totals.actual_spend
        end as predicted_to_actual_value,
        cast(transaction_metrics.transactions_mean_absolute_error as {{ type_ratio() }})
            as transactions_mean_absolute_error,
        cast(transaction_metrics.spearman_transactions as {{ type_ratio() }}) as spearman_transactions,
        cast(clv_metrics.spearman_clv_vs_spend as {{ type_ratio() }}) as spearman_clv_vs_spend,
        cast(clv_metrics.gini_clv as {{ type_ratio() }}) as gini_clv,
        case
            when clv_metrics.perfect_gini > 0
                then cast(clv_metrics.gini_clv / clv_metrics.perfect_gini as {{ type_ratio() }})
        end as normalised_gini,
        cast(totals.holdout_days as {{ dbt.type_int() }}) as holdout_days,
        totals.holdout_start_date,
        totals.holdout_end_date,
        totals.as_of_date
    from totals
    cross join transaction_metrics
    cross join clv_metrics
)

select * from final
