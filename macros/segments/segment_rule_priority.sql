{#- The priority of the registry rule that fires for a row: the first active rule that
    holds, otherwise the fallback's priority. -#}
{% macro segment_rule_priority(family_name) -%}
    {%- set family = family_name if family_name is mapping else segment_family(family_name) -%}
    {%- if family is none -%}
        cast(null as {{ dbt.type_int() }})
    {%- else -%}
        case
            {%- for segment in family.active_rules %}
            when {{ segment.rule }} then {{ segment.priority }}
            {%- endfor %}
            else {{ family.fallback.priority }}
        end
    {%- endif -%}
{%- endmacro %}
