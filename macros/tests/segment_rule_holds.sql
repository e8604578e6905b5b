{#- Definition invariant: every customer in `segment` satisfies `expression` (SQL over
    the model's columns). Fails per customer in the segment for whom it does not hold. -#}
{% test segment_rule_holds(model, column_name, segment, expression) %}

select *
from {{ model }}
where
    {{ column_name }} = '{{ segment | replace("'", "''") }}'
    and not coalesce({{ expression }}, false)

{% endtest %}
