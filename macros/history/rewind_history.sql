{#- pre-hook of the history models: forget the rows an earlier run recorded for this
    run's as_of_date or later, so that re-running a date replaces its rows and running an
    earlier date replays the history from there. Does nothing on the first build. -#}
{% macro rewind_history(start_column) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where {{ start_column }} >= (select as_of_date from {{ ref('int_as_of_date_resolved') }})
    {%- endif -%}
{%- endmacro %}
