{#- The segment of a registry family (its name, or a family from segment_families) as
    one SQL expression: the active rules in priority order, the first that holds wins,
    otherwise the fallback. A value segment's label comes from its value expression.
    Columns are those of the rows it runs on. Given priority_column (a column holding
    segment_rule_priority's result), the label is looked up from that priority instead,
    so the rules are not evaluated a second time. -#}
{% macro segment_case(family_name, priority_column=none) -%}
    {%- set family = family_name if family_name is mapping else segment_family(family_name) -%}
    {%- if family is none -%}
        cast(null as {{ dbt.type_string() }})
    {%- else -%}
        case
            {%- for segment in family.active_rules %}
            when
                {%- if priority_column %} {{ priority_column }} = {{ segment.priority }}
                {%- else %} {{ segment.rule }}
                {%- endif %} then {{ segment_label(segment, family.fallback) }}
            {%- endfor %}
            else {{ text_literal(family.fallback.segment) }}
        end
    {%- endif -%}
{%- endmacro %}
