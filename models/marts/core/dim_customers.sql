{#- The single customer view, as BI reads it: one row per customer known as of
    as_of_date. Built in int_customers_profiled; the contract here fixes the columns and
    their types. -#}
with

customers_profiled as (
    select * from {{ ref('int_customers_profiled') }}
),

final as (
    select * from customers_profiled
)

select * from final
