{#- A segment family column holds only what the registry allows: never null, never a
    retired segment, and - unless the family has value segments whose labels come from
    the data - only the family's active segment names. -#}
{% test segment_family_values(model, column_name, family) %}
{%- set registry_family = segment_family(family) %}
{%- set active_names = registry_family.active_names if registry_family is not none else [] %}
{%- set retired_names = registry_family.retired_names if registry_family is not none else [] %}
{%- set has_value_segments = registry_family.has_value_segments if registry_family is not none else false %}

select
    {{ column_name }} as segment,
    count(*) as customer_count
from {{ model }}
where
    {{ column_name }} is null
    {%- if retired_names %}
    or {{ column_name }} in ({{ text_literals(retired_names) }})
    {%- endif %}
    {%- if not has_value_segments and active_names %}
    or {{ column_name }} not in ({{ text_literals(active_names) }})
    {%- endif %}
group by {{ column_name }}

{% endtest %}
