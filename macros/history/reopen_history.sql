{#- pre-hook of segment_membership_history, after rewind_history: versions that an
    earlier run closed on this run's as_of_date or later are open again, as they were
    before that run. Does nothing on the first build. -#}
{% macro reopen_history(end_column) -%}
    {%- if is_incremental() -%}
        update {{ this }}
        set {{ end_column }} = null
        where {{ end_column }} >= (select as_of_date from {{ ref('int_as_of_date_resolved') }})
    {%- endif -%}
{%- endmacro %}
