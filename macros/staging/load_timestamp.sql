{#- Upper bound for plausible timestamps: var('staging.load_timestamp'), or when the dbt run
    started (UTC). -#}
{% macro load_timestamp() -%}
    {%- set configured = var('staging.load_timestamp', none) -%}
    {%- set value = configured if configured else run_started_at.strftime('%Y-%m-%d %H:%M:%S') -%}
    cast('{{ value }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}

{% macro min_valid_timestamp() -%}
    cast('{{ var("staging.min_valid_date") }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
