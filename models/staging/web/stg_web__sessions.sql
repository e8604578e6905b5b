with

sessions as (
    select * from {{ ref('base_web__sessions') }}
    where quarantine_reason is null
),

final as (
    select
        session_id,
        anonymous_id,
        customer_id,
        order_id,
        case
            when device_type is null then null
            when device_type in ('desktop', 'mobile', 'tablet') then device_type
            when device_type in ('phone', 'smartphone') then 'mobile'
            when device_type in ('pc', 'laptop', 'computer') then 'desktop'
            else 'other'
        end as device_type,
        operating_system,
        browser,
        traffic_source,
        page_views,
        started_at
    from sessions
)

select * from final
