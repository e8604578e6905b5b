-- Every one of the 125 recency/frequency/monetary score combinations must fall under a
-- rule of the rfm family in the segment registry rather than the fallback (Prospect,
-- meant for customers without scores); returns the combinations no rule covers.
with

score_combinations as (
    {{ score_combinations() }}
),

segmented as (
    select
        recency_score,
        frequency_score,
        monetary_score,
        {{ segment_case('rfm') }} as rfm_segment
    from score_combinations
)

select *
from segmented
where rfm_segment = {{ text_literal(segment_family('rfm').fallback.segment if execute else '') }}
