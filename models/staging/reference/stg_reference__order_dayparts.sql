{#- The part of the day each hour (0-23, UTC) belongs to, from seeds/order_dayparts.csv. -#}
with

order_dayparts as (
    select * from {{ ref('order_dayparts') }}
),

final as (
    select
        cast(hour_of_day as {{ dbt.type_int() }}) as hour_of_day,
        trim(daypart) as daypart
    from order_dayparts
)

select * from final
