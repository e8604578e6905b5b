{#- The single date every current-state model is computed as of: var('as_of_date'), or
    the latest purchase date in the data. Current-state models ignore anything after it. -#}
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
    {%- if var('as_of_date', none) %}
    select cast('{{ var("as_of_date") }}' as date) as as_of_date
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
