{#- The single date every current-state model is computed as of: var('as_of_date'), else
    the environment variable SEGMENT_WAREHOUSE_AS_OF_DATE (the scheduled job's way: a new
    var makes dbt parse the whole project again, a changed environment variable only the
    files that read it), else the latest purchase date in the data. Current-state models
    ignore anything after it. -#}
{%- set new_days = var('lifecycle.new_days') | int -%}
{%- set active_days = var('lifecycle.active_days') | int -%}
{%- set churn_days = var('lifecycle.churn_days') | int -%}
{%- if not (0 < new_days <= active_days < churn_days) -%}
    {{ exceptions.raise_compiler_error(
        "Lifecycle vars must satisfy 0 < lifecycle.new_days <= lifecycle.active_days < lifecycle.churn_days; got "
        ~ new_days ~ ", " ~ active_days ~ ", " ~ churn_days
    ) }}
{%- endif -%}

with

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

resolved as (
    {%- set as_of_date = (var('as_of_date', none) or env_var('SEGMENT_WAREHOUSE_AS_OF_DATE', '')) | string | trim %}
    {%- if as_of_date and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_date) %}
        {{ exceptions.raise_compiler_error(
            "as_of_date must be an ISO date (YYYY-MM-DD), from var as_of_date or "
            ~ "SEGMENT_WAREHOUSE_AS_OF_DATE; got '" ~ as_of_date ~ "'"
        ) }}
    {%- endif %}
    {%- if as_of_date %}
    select cast('{{ as_of_date }}' as date) as as_of_date
    {%- else %}
        select coalesce(max(order_date), cast({{ load_timestamp() }} as date)) as as_of_date
        from orders
    {%- endif %}
),

final as (
    select
        as_of_date,
        {{ dbt.dateadd('day', 1, 'as_of_date') }} as as_of_end_at
    from resolved
)

select * from final
