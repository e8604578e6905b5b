{#- The occasion windows (groups holiday and summer) for every year of the order
    history, generated from each occasion's rule, so the calendar covers whatever years
    the data holds instead of a list that ends. seeds/occasion_calendar.csv lists the
    same windows for 2015-2035 and stays as the reference a test compares against.
    Valentine's Day: 1-14 February. Mother's Day: the ten days before the second Sunday
    of May, and that Sunday. Summer: July and August. Black Friday to Christmas Eve: the
    day after the fourth Thursday of November to 24 December. -#}
{%- set year_text = 'cast(calendar_year as ' ~ dbt.type_string() ~ ')' -%}

with

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_years as (
    select distinct cast(extract(year from order_date) as {{ dbt.type_int() }}) as calendar_year
    from orders
    where order_date is not null
),

month_starts as (
    select
        calendar_year,
        cast({{ dbt.concat([year_text, "'-05-01'"]) }} as date) as may_first,
        cast({{ dbt.concat([year_text, "'-11-01'"]) }} as date) as november_first
    from order_years
),

anchors as (
    -- ISO weekdays: Thursday 4, Sunday 7; the first such day of the month, then weeks on.
    select
        calendar_year,
        {{ dbt.dateadd(
            'day', 'mod(7 - ' ~ iso_day_of_week('may_first') ~ ', 7) + 7', 'may_first'
        ) }} as mothers_day,
        {{ dbt.dateadd(
            'day', 'mod(11 - ' ~ iso_day_of_week('november_first') ~ ', 7) + 21', 'november_first'
        ) }} as thanksgiving
    from month_starts
),

windows as (
    select
        'valentines_day' as occasion,
        'holiday' as occasion_group,
        cast({{ dbt.concat([year_text, "'-02-01'"]) }} as date) as start_date,
        cast({{ dbt.concat([year_text, "'-02-14'"]) }} as date) as end_date
    from anchors

    union all

    select
        'mothers_day' as occasion,
        'holiday' as occasion_group,
        cast({{ dbt.dateadd('day', -10, 'mothers_day') }} as date) as start_date,
        cast(mothers_day as date) as end_date
    from anchors

    union all

    select
        'summer' as occasion,
        'summer' as occasion_group,
        cast({{ dbt.concat([year_text, "'-07-01'"]) }} as date) as start_date,
        cast({{ dbt.concat([year_text, "'-08-31'"]) }} as date) as end_date
    from anchors

    union all

    select
        'black_friday_to_christmas' as occasion,
        'holiday' as occasion_group,
        cast({{ dbt.dateadd('day', 1, 'thanksgiving') }} as date) as start_date,
        cast({{ dbt.concat([year_text, "'-12-24'"]) }} as date) as end_date
    from anchors
),

final as (
    select
        occasion,
        occasion_group,
        start_date,
        end_date
    from windows
)

select * from final
