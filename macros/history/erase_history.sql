{#- pre-hook of the history models: deletes every row that names an erased person
    (int_erased_identifiers: their customer ids and the ids of their records in each
    source) in any of `columns`, so the history forgets them from the run that applies
    the erasure on. Totals recorded elsewhere (segment_size_history) stay as they were.
    Does nothing on the first build. The model must declare
    `-- depends_on: {{ ref('int_erased_identifiers') }}`. -#}
{% macro erase_history(columns) -%}
    {%- if is_incremental() -%}
        delete from {{ this }}
        where
        {%- for column in columns %}
            {{ 'or ' if not loop.first }}{{ column }} in (
                select identifier_value from {{ ref('int_erased_identifiers') }}
                where identifier_type in ('customer_id', 'shop_id', 'pos_id', 'web_id')
            )
        {%- endfor %}
    {%- endif -%}
{%- endmacro %}
