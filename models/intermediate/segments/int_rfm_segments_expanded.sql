{#- Every recency, frequency and monetary score combination (5 x 5 x 5) with the RFM
    segment it belongs to: the matching rule in seeds/rfm_segments.csv with the lowest
    priority number. A combination no rule matches is left out; the singular test
    tests/marts/segments/assert_rfm_rules_cover_every_score.sql reports it. -#}
with

rfm_segments as (
    select * from {{ ref('rfm_segments') }}
),

score_combinations as (
    {{ score_combinations() }}
),

matches as (
    select
        score_combinations.recency_score,
        score_combinations.frequency_score,
        score_combinations.monetary_score,
        rfm_segments.rfm_segment,
        row_number() over (
            partition by
                score_combinations.recency_score,
                score_combinations.frequency_score,
                score_combinations.monetary_score
            order by rfm_segments.priority
        ) as match_rank
    from score_combinations
    inner join rfm_segments
        on
            score_combinations.recency_score between rfm_segments.recency_min and rfm_segments.recency_max
            and score_combinations.frequency_score between rfm_segments.frequency_min and rfm_segments.frequency_max
            and score_combinations.monetary_score between rfm_segments.monetary_min and rfm_segments.monetary_max
),

final as (
    select
        recency_score,
        frequency_score,
        monetary_score,
        rfm_segment
    from matches
    where match_rank = 1
)

select * from final
