-- A better value never gets a lower score and equal values always share a score.
-- Returns each metric value that spans several scores, and each pair of neighbouring
-- scores whose value ranges overlap or run the wrong way.
with

rfm as (
    select * from {{ ref('customer_rfm') }}
    where recency_score is not null
),

metric_values as (
    select
        'recency' as metric,
        -1 * days_since_last_order as better_is_higher,
        recency_score as score
    from rfm
    union all
    select
        'frequency' as metric,
        rfm_order_count as better_is_higher,
        frequency_score as score
    from rfm
    union all
    select
        'monetary' as metric,
        rfm_spend as better_is_higher,
        monetary_score as score
    from rfm
),

ties_split as (
    select
        metric,
        better_is_higher as metric_value,
        'one value, several scores' as problem
    from metric_values
    group by metric, better_is_higher
    having min(score) <> max(score)
),

score_ranges as (
    select
        metric,
        score,
        min(better_is_higher) as lowest_value,
        max(better_is_higher) as highest_value
    from metric_values
    group by metric, score
),

out_of_order as (
    select
        metric,
        lowest_value as metric_value,
        'score ranges overlap' as problem
    from (
        select
            metric,
            lowest_value,
            lag(highest_value) over (partition by metric order by score) as previous_highest_value
        from score_ranges
    ) as ordered_ranges
    where lowest_value <= previous_highest_value
)

select * from ties_split
union all
select * from out_of_order
