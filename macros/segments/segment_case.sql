{#- The segment of a registry family (its name, or a family from segment_families) as
    one SQL expression: the active rules in priority order, the first that holds wins,
    otherwise the fallback. A value segment's label comes from its value expression.
    Columns are those of the rows it runs on. -#}
{% macro segment_case(family_name) -%}
    {%- set family = family_name if family_name is mapping else segment_family(family_name) -%}
    {%- if family is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case
            {%- for segment in family.active_rules %}
            when {{ segment.rule }} then {{ segment_label(segment, family.fallback) }}
            {%- endfor %}
            else {{ text_literal(family.fallback.segment) }}
        end
    {%- endif -%}
{%- endmacro %}
