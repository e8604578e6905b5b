{#- An audience's filter in words, e.g. "vip in (Lapsed VIP) and not churn_risk in
    (High churn risk)", from the filters audiences() returns. -#}
{% macro audience_filter_description(filters) -%}
    {%- set parts = [] -%}
    {%- for is_exclusion in [false, true] -%}
        {%- set families = [] -%}
        {%- for filter in filters if filter.is_exclusion == is_exclusion and filter.segment_family not in families -%}
            {%- do families.append(filter.segment_family) -%}
        {%- endfor -%}
        {%- for family in families -%}
            {%- set names = filters | selectattr('is_exclusion', 'equalto', is_exclusion) | selectattr('segment_family', 'equalto', family) | map(attribute='segment') | list -%}
            {%- do parts.append(('not ' if is_exclusion else '') ~ family ~ ' in (' ~ names | join(', ') ~ ')') -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(parts | join(' and ')) }}
{%- endmacro %}
