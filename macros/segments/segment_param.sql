{#- One param of a registry family: the default in the family's file, or the value of
    var segments.params.<family>.<name> when set. For the feature SQL that shares a
    threshold with the family's rules (e.g. charmed's return window). At parse time,
    before the registry can be read, it returns `default` (none unless given). -#}
{% macro segment_param(family_name, name, default=none) %}
    {%- set family = segment_family(family_name) -%}
    {%- if family is none -%}
        {{ return(default) }}
    {%- endif -%}
    {%- if name not in family.params -%}
        {{ exceptions.raise_compiler_error(
            "Segment registry (" ~ family.file ~ "), family '" ~ family_name ~ "': no param named '" ~ name ~ "'.") }}
    {%- endif -%}
    {{ return(family.params[name]) }}
{% endmacro %}
