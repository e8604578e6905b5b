{#- A segment family column holds only what the registry allows: never null, never a
    retired segment, and - unless the family has value segments whose labels come from
    the data - only the family's active segment names. -#}
{% test segment_family_values(model, column_name, family) %}
{%- set registry_family = segment_family(family) %}
{%- set active_names = [] %}
{%- set retired_names = [] %}
{%- set has_value_segments = false %}
{%- if registry_family is not none %}
    {%- set active_names = registry_family.active_rules | rejectattr('value') | map(attribute='segment') | list
        + [registry_family.fallback.segment] %}
    {%- set retired_names = registry_family.segments | selectattr('status', 'equalto', 'retired')
        | map(attribute='segment') | list %}
    {%- set has_value_segments = registry_family.has_value_segments %}
{%- endif %}

select
    {{ column_name }} as segment,
    count(*) as customer_count
from {{ model }}
where
    {{ column_name }} is null
    {%- if retired_names %}
    or {{ column_name }} in ({% for name in retired_names %}{{ text_literal(name) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
    {%- if not has_value_segments and active_names %}
    or {{ column_name }} not in ({% for name in active_names %}{{ text_literal(name) }}{% if not loop.last %}, {% endif %}{% endfor %})
    {%- endif %}
group by {{ column_name }}

{% endtest %}
