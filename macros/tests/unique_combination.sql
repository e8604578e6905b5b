{#- No two rows share the values of all the columns (a null equals a null here). Grouped
    on the columns themselves: cheaper on large tables than the built-in unique test on a
    concatenated string, and a null in one column cannot hide a duplicate. -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as row_count
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
