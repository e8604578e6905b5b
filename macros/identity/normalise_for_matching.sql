{#- Text as record linkage compares it: accents folded, 'ß' as 'ss', lower case, every run of
    characters other than letters and digits one space, trimmed; null when nothing is left. -#}
{% macro normalise_for_matching(expression) -%}
    {%- set folded = "replace(lower(" ~ fold_accents(expression) ~ "), 'ß', 'ss')" -%}
    nullif(trim({{ regex_replace(folded, '[^a-z0-9]+', ' ') }}), '')
{%- endmacro %}
