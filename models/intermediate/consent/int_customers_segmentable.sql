{#- The one choke point for profiling: every person who may be placed in segments, scored
    or clustered, i.e. every person of the single customer view who has not objected to
    profiling (int_customer_consents_pivoted). Every customer-level segment output reads
    its customers through this model; dim_customers and fct_orders keep everyone. -#}

with

customers as (
    select * from {{ ref('int_customers_profiled') }}
),

final as (
    select customer_id
    from customers
    where not has_objected_to_profiling
)

select * from final
