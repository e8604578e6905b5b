{% macro edit_distance(left, right) -%}
    {{ return(adapter.dispatch('edit_distance', 'segment_warehouse')(left, right)) }}
{%- endmacro %}

{% macro default__edit_distance(left, right) -%}
    levenshtein({{ left }}, {{ right }})
{%- endmacro %}
