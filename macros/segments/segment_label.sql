{#- The label a registry segment gives: its name, or for a value segment its value
    expression as text (falling back to the family's fallback when that is null). -#}
{% macro segment_label(segment, fallback) -%}
    {%- if segment.value -%}
        coalesce(cast({{ segment.value }} as {{ dbt.type_string() }}), {{ text_literal(fallback.segment) }})
    {%- else -%}
        {{ text_literal(segment.segment) }}
    {%- endif -%}
{%- endmacro %}
