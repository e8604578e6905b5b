{#- When and how each customer buys, as of as_of_date: orders inside shopping occasions
    (int_occasion_windows_generated, for every year of the data), on weekends, per part of the day
    (seeds/order_dayparts.csv, UTC hours), and how much of the list price was discounted.
    It also counts the orders whose input the families can trust: from a source whose
    timestamps carry a time of day, from a source that records discounts at all, and
    with a recorded channel - so a family says Unknown instead of guessing where the
    input is missing. -#}
with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

orders_unioned as (
    select * from {{ ref('int_orders_unioned') }}
),

occasions as (
    select * from {{ ref('int_occasion_windows_generated') }}
),

dayparts as (
    select * from {{ ref('stg_reference__order_dayparts') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

orders_clocked as (
    select
        order_source,
        discount_amount,
        coupon_code,
        extract(hour from ordered_at) * 3600
        + extract(minute from ordered_at) * 60
        + extract(second from ordered_at) as second_of_day
    from orders
),

source_clocks as (
    -- What each order source records, judged over its whole history. Time of day: a
    -- source whose orders all sit at one or two clock times (midnight local time is one
    -- UTC time, or two across daylight saving) delivers dates only. Discounts: a source
    -- with a discount or coupon on some order records them.
    select
        order_source,
        count(distinct second_of_day) > 2 as has_time_of_day,
        coalesce(max(discount_amount), 0) > 0 or count(coupon_code) > 0 as has_discount_value
    from orders_clocked
    group by order_source
),

source_discount_columns as (
    -- A source that fills its order discount at all, zeros included, records discounts;
    -- staging reads an absent or empty column as null.
    select
        order_source,
        count(discount_amount) > 0 as has_discount_column
    from orders_unioned
    group by order_source
),

source_inputs as (
    select
        source_clocks.order_source,
        source_clocks.has_time_of_day,
        source_clocks.has_discount_value
        or coalesce(source_discount_columns.has_discount_column, false) as has_discount_data
    from source_clocks
    left join source_discount_columns
        on source_clocks.order_source = source_discount_columns.order_source
),

orders_as_of as (
    select
        orders.customer_id,
        orders.order_id,
        orders.channel,
        orders.order_date,
        orders.amount,
        orders.discount_amount,
        cast(extract(hour from orders.ordered_at) as {{ dbt.type_int() }}) as hour_of_day,
        coalesce(source_inputs.has_time_of_day, false) as has_time_of_day,
        coalesce(source_inputs.has_discount_data, false) as has_discount_data,
        {{ iso_day_of_week('orders.order_date') }} in (6, 7) as is_weekend
    from orders
    cross join as_of
    left join source_inputs
        on
            orders.order_source = source_inputs.order_source
            or (orders.order_source is null and source_inputs.order_source is null)
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
        -- no daypart without a time of day: such orders do not vote for one
        case when orders_as_of.has_time_of_day then coalesce(dayparts.daypart, 'Unknown') end as daypart
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
        sum(case when has_time_of_day then 1 else 0 end) as timed_order_count,
        sum(case when has_discount_data then 1 else 0 end) as discount_known_order_count,
        sum(case when channel is not null then 1 else 0 end) as channel_known_order_count,
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
    where daypart is not null
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
        customer_orders.timed_order_count,
        customer_orders.discount_known_order_count,
        customer_orders.channel_known_order_count,
        dominant_dayparts.dominant_daypart_order_count,
        customer_orders.list_price_amount,
        customer_orders.discount_amount
    from customer_orders
    left join dominant_dayparts
        on customer_orders.customer_id = dominant_dayparts.customer_id
)

select * from final
