{#- Size and value of every segment of every family as of as_of_date, for BI: customers
    and their share, revenue (net spend) and its share, average order value, orders per
    customer and how many may be contacted for marketing. -#}
with

assignments as (
    select * from {{ ref('customer_segment_assignments') }}
),

customers as (
    select * from {{ ref('dim_customers') }}
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

final as (
    select
        segment_totals.segment_family,
        segment_totals.segment,
        cast(segment_totals.rule_priority as {{ dbt.type_int() }}) as rule_priority,
        cast(segment_totals.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(segment_totals.consented_customer_count as {{ dbt.type_bigint() }}) as consented_customer_count,
        cast(segment_totals.customer_count as {{ type_ratio() }}) / totals.customer_count as customer_share,
        cast(segment_totals.net_spend as {{ type_money() }}) as revenue,
        case
            when totals.net_spend <> 0 then cast(segment_totals.net_spend as {{ type_ratio() }}) / totals.net_spend
        end as revenue_share,
        case
            when segment_totals.order_count > 0
                then cast(segment_totals.gross_spend / segment_totals.order_count as {{ type_money() }})
        end as average_order_value,
        cast(segment_totals.order_count as {{ type_ratio() }}) / segment_totals.customer_count as orders_per_customer,
        segment_totals.as_of_date
    from segment_totals
    cross join totals
)

select * from final
