{#- Segment family invariant: every customer appears once and sits in exactly one of
    the family's segments. Fails per customer that is repeated, has no segment, or has
    a segment outside the family. -#}
{% test one_segment_per_customer(model, column_name, segments, customer_key='customer_id') %}

with

assignments as (
    select
        {{ customer_key }} as customer_key,
        {{ column_name }} as segment
    from {{ model }}
),

per_customer as (
    select
        customer_key,
        count(*) as assignment_count,
        min(segment) as segment,
        sum(case when segment is null then 1 else 0 end) as unassigned_count
    from assignments
    group by customer_key
)

select *
from per_customer
where
    customer_key is null
    or assignment_count <> 1
    or unassigned_count > 0
    or segment not in (
        {%- for segment in segments %}
        '{{ segment | replace("'", "''") }}'{% if not loop.last %},{% endif %}
        {%- endfor %}
    )

{% endtest %}
