{#- Recency, frequency and monetary scores (1-5) and the RFM segment of every customer as
    of as_of_date, as BI reads them. Scored in int_customer_rfm_scored (the rfm family of
    the segment registry assigns the segment there); the contract here fixes the columns
    and their types. -#}
with

rfm_scored as (
    select * from {{ ref('int_customer_rfm_scored') }}
),

final as (
    select * from rfm_scored
)

select * from final
