{#- The sizes of a family's segments add up to the number of customers in the single
    customer view. Fails with one row showing both numbers when they differ. -#}
{% test segment_sizes_sum_to_customer_count(model, column_name, customers) %}

with

segment_sizes as (
    select
        {{ column_name }} as segment,
        count(*) as segment_size
    from {{ model }}
    group by {{ column_name }}
),

totals as (
    select
        (select sum(segment_size) from segment_sizes) as sum_of_segment_sizes,
        (select count(*) from {{ customers }}) as customer_count
)

select *
from totals
where coalesce(sum_of_segment_sizes, 0) <> customer_count

{% endtest %}
