{#- When and how each customer buys, as of as_of_date: orders inside shopping occasions
    (seeds/occasion_calendar.csv), on weekends, per part of the day
    (seeds/order_dayparts.csv, UTC hours), and how much of the list price was discounted. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

occasions as (
    select * from {{ ref('stg_reference__occasion_calendar') }}
),

dayparts as (
    select * from {{ ref('stg_reference__order_dayparts') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

orders_as_of as (
    select
        orders.customer_id,
        orders.order_id,
        orders.order_date,
        orders.amount,
        orders.discount_amount,
        cast(extract(hour from orders.ordered_at) as {{ dbt.type_int() }}) as hour_of_day,
        {{ iso_day_of_week('orders.order_date') }} in (6, 7) as is_weekend
    from orders
    cross join as_of
    where orders.ordered_at < as_of.as_of_end_at
),

occasion_days as (
    -- Only the distinct order dates meet the occasion windows, so the range join stays
    -- small however many orders there are.
    select
        order_days.order_date,
        max(case when occasions.occasion_group = 'holiday' then 1 else 0 end) as is_holiday,
        max(case when occasions.occasion_group = 'summer' then 1 else 0 end) as is_summer
    from (select distinct order_date from orders_as_of) as order_days
    inner join occasions
        on order_days.order_date between occasions.start_date and occasions.end_date
    group by order_days.order_date
),

orders_flagged as (
    select
        orders_as_of.*,
        coalesce(occasion_days.is_holiday, 0) as is_holiday,
        coalesce(occasion_days.is_summer, 0) as is_summer,
        coalesce(dayparts.daypart, 'Unknown') as daypart
    from orders_as_of
    left join occasion_days
        on orders_as_of.order_date = occasion_days.order_date
    left join dayparts
        on orders_as_of.hour_of_day = dayparts.hour_of_day
),

customer_orders as (
    select
        customer_id,
        count(*) as order_count,
        sum(is_holiday) as holiday_order_count,
        sum(is_summer) as summer_order_count,
        sum(case when is_weekend then 1 else 0 end) as weekend_order_count,
        sum(amount + discount_amount) as list_price_amount,
        sum(discount_amount) as discount_amount
    from orders_flagged
    group by customer_id
),

daypart_orders as (
    select
        customer_id,
        daypart,
        count(*) as order_count
    from orders_flagged
    group by customer_id, daypart
),

dominant_dayparts as (
    select
        customer_id,
        daypart as dominant_daypart,
        order_count as dominant_daypart_order_count
    from (
        select
            customer_id,
            daypart,
            order_count,
            row_number() over (
                partition by customer_id
                order by order_count desc, daypart asc
            ) as daypart_rank
        from daypart_orders
    ) as ranked
    where daypart_rank = 1
),

final as (
    select
        customer_orders.customer_id,
        dominant_dayparts.dominant_daypart,
        customer_orders.order_count,
        customer_orders.holiday_order_count,
        customer_orders.summer_order_count,
        customer_orders.weekend_order_count,
        dominant_dayparts.dominant_daypart_order_count,
        customer_orders.list_price_amount,
        customer_orders.discount_amount
    from customer_orders
    inner join dominant_dayparts
        on customer_orders.customer_id = dominant_dayparts.customer_id
)

select * from final
