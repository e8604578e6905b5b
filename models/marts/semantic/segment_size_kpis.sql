{#- segment_size_history with each family's totals on the run date beside every segment,
    so that the semantic layer's shares are a ratio of two sums. A view: it adds two
    window sums to the history and stores nothing. -#}
{{ config(materialized='view') }}

with

sizes as (
    select * from {{ ref('segment_size_history') }}
),

final as (
    select
        as_of_date,
        segment_family,
        segment,
        customer_count,
        consented_customer_count,
        revenue,
        sum(customer_count) over (partition by as_of_date, segment_family) as family_customer_count,
        sum(revenue) over (partition by as_of_date, segment_family) as family_revenue
    from sizes
)

select * from final
