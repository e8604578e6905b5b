{#- Fails for every row where the SQL expression is not true. Filter rows with the
    test's `where` config. -#}
{% test expression_is_true(model, expression) %}

select *
from {{ model }}
where not coalesce({{ expression }}, false)

{% endtest %}
