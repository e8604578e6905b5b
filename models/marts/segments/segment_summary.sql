{#- Size and value of every segment of every family as of as_of_date, for BI: customers
    and their share, revenue (net spend) and its share, average order value, orders per
    customer and how many may be contacted for marketing. People who objected to
    profiling are in no segment but still count: each family gets a 'Not profiled' row
    holding them, so every family adds up to dim_customers. -#}
{%- set families = segment_families() -%}

with

assignments as (
    select * from {{ ref('customer_segment_assignments') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
),

segmentable as (
    select * from {{ ref('int_customers_segmentable') }}
),

totals as (
    select
        count(*) as customer_count,
        sum(net_spend) as net_spend
    from customers
),

segment_totals as (
    select
        assignments.segment_family,
        assignments.segment,
        count(*) as customer_count,
        sum(case when customers.has_any_marketing_consent then 1 else 0 end) as consented_customer_count,
        sum(customers.order_count) as order_count,
        sum(customers.gross_spend) as gross_spend,
        sum(customers.net_spend) as net_spend,
        min(assignments.rule_priority) as rule_priority,
        max(assignments.as_of_date) as as_of_date
    from assignments
    inner join customers
        on assignments.customer_id = customers.customer_id
    group by assignments.segment_family, assignments.segment
),

summary_families as (
    {%- for family in families %}
        select {{ text_literal(family.family) }} as segment_family
        union all
    {%- endfor %}
    select 'micro_segment' as segment_family
),

not_profiled as (
    select
        count(*) as customer_count,
        sum(case when customers.has_any_marketing_consent then 1 else 0 end) as consented_customer_count,
        sum(customers.order_count) as order_count,
        sum(customers.gross_spend) as gross_spend,
        sum(customers.net_spend) as net_spend,
        max(customers.as_of_date) as as_of_date
    from customers
    left join segmentable
        on customers.customer_id = segmentable.customer_id
    where segmentable.customer_id is null
),

not_profiled_totals as (
    select
        summary_families.segment_family,
        cast('Not profiled' as {{ dbt.type_string() }}) as segment,
        not_profiled.customer_count,
        not_profiled.consented_customer_count,
        not_profiled.order_count,
        not_profiled.gross_spend,
        not_profiled.net_spend,
        cast(null as {{ dbt.type_int() }}) as rule_priority,
        not_profiled.as_of_date
    from summary_families
    cross join not_profiled
    where not_profiled.customer_count > 0
),

all_segment_totals as (
    select * from segment_totals
    union all
    select * from not_profiled_totals
),

final as (
    select
        all_segment_totals.segment_family,
        all_segment_totals.segment,
        cast(all_segment_totals.rule_priority as {{ dbt.type_int() }}) as rule_priority,
        cast(all_segment_totals.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(all_segment_totals.consented_customer_count as {{ dbt.type_bigint() }}) as consented_customer_count,
        cast(all_segment_totals.customer_count as {{ type_ratio() }}) / totals.customer_count as customer_share,
        cast(all_segment_totals.net_spend as {{ type_money() }}) as revenue,
        case
            when totals.net_spend <> 0 then cast(all_segment_totals.net_spend as {{ type_ratio() }}) / totals.net_spend
        end as revenue_share,
        case
            when all_segment_totals.order_count > 0
                then cast(all_segment_totals.gross_spend / all_segment_totals.order_count as {{ type_money() }})
        end as average_order_value,
        cast(all_segment_totals.order_count as {{ type_ratio() }}) / all_segment_totals.customer_count as orders_per_customer,
        all_segment_totals.as_of_date
    from all_segment_totals
    cross join totals
)

select * from final
