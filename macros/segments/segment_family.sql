{#- One family of the segment registry by name; stops the run when it is not there. -#}
{% macro segment_family(family_name) %}
    {%- for family in segment_families() if family.family == family_name -%}
        {{ return(family) }}
    {%- endfor -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            "Segment registry (var segment_families in dbt_project.yml): no family named '" ~ family_name ~ "'.") }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
