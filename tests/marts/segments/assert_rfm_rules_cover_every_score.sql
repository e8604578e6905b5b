-- Every one of the 125 recency/frequency/monetary score combinations must fall under a
-- rule in seeds/rfm_segments.csv; returns the combinations no rule covers.
with

segment_lookup as (
    select * from {{ ref('int_rfm_segments_expanded') }}
),

score_combinations as (
    {{ score_combinations() }}
)

select score_combinations.*
from score_combinations
left join segment_lookup
    on
        score_combinations.recency_score = segment_lookup.recency_score
        and score_combinations.frequency_score = segment_lookup.frequency_score
        and score_combinations.monetary_score = segment_lookup.monetary_score
where segment_lookup.rfm_segment is null
