{#- Every published group (value of the column) has at least min_size rows, unless the
    whole model has fewer than min_size rows, in which case it may hold only one group. -#}
{% test min_group_size(model, column_name, min_size) %}

with

group_sizes as (
    select
        {{ column_name }} as group_value,
        count(*) as group_size
    from {{ model }}
    group by {{ column_name }}
),

totals as (
    select
        count(*) as group_count,
        sum(group_size) as row_count
    from group_sizes
)

select group_sizes.*
from group_sizes
cross join totals
where
    group_sizes.group_size < {{ min_size }}
    and (totals.row_count >= {{ min_size }} or totals.group_count > 1)

{% endtest %}
