{#- One family of the segment registry by name; stops the run when it is not there. -#}
{% macro segment_family(family_name) %}
    {%- for family in segment_families() if family.family == family_name -%}
        {{ return(family) }}
    {%- endfor -%}
    {%- if execute -%}
        {{ exceptions.raise_compiler_error(
            "Segment registry: no family named '" ~ family_name ~ "' (expected models/marts/segments/families/" ~ family_name ~ ".yml).") }}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}
