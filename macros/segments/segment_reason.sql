{#- A readable reason for a family's assignment: its reason metrics with their values,
    e.g. 'spend_percentile=0.991, order_count=14'; 'null' where a value is missing. -#}
{% macro segment_reason(family_name) -%}
    {%- set family = family_name if family_name is mapping else segment_family(family_name) -%}
    {%- if family is none or family.metrics | length == 0 -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        {%- set parts = [] -%}
        {%- for metric in family.metrics -%}
            {%- do parts.append(text_literal((', ' if not loop.first else '') ~ metric ~ '=')) -%}
            {%- do parts.append("coalesce(cast(" ~ metric ~ " as " ~ dbt.type_string() ~ "), 'null')") -%}
        {%- endfor -%}
        {{ dbt.concat(parts) }}
    {%- endif -%}
{%- endmacro %}
