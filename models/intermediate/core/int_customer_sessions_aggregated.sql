{#- Web and app sessions per customer as of as_of_date (logged in, or by a visitor
    resolved to them), with the device and operating system used most (ties: the most
    recent use, then the name). -#}
with

web_sessions as (
    select * from {{ ref('stg_web__sessions') }}
),

-- one import of the resolved records for both roles (account and visitor), narrowed to
-- the columns the joins use. Two imports, one per source, each looked larger to DuckDB's
-- planner than the sessions, so it built its hash tables on the 10M sessions rather
-- than on the records and ran out of memory at 3GB with 1M customers (DECISIONLOG.md,
-- "Sessions and store transactions join one narrow import of the resolved records").
resolved as (
    select
        source,
        source_customer_id,
        customer_id,
        is_customer
    from {{ ref('int_identity_records_resolved') }}
    where source in ('shop', 'web')
),

sessions as (
    -- Each session belongs to the person of the account logged in, else to the person
    -- the visitor's anonymous id was resolved to; sessions of visitors linked to no
    -- customer are left out.
    select
        coalesce(account_people.customer_id, visitor_people.customer_id) as customer_id,
        web_sessions.session_id,
        web_sessions.device_type,
        web_sessions.operating_system,
        web_sessions.page_views,
        web_sessions.started_at
    from web_sessions
    left join resolved as account_people
        on
            account_people.source = 'shop'
            and web_sessions.customer_id = account_people.source_customer_id
    left join resolved as visitor_people
        on
            visitor_people.source = 'web'
            and web_sessions.anonymous_id = visitor_people.source_customer_id
    where coalesce(account_people.is_customer, visitor_people.is_customer)
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

sessions_as_of as (
    select sessions.*
    from sessions
    cross join as_of
    where
        sessions.customer_id is not null
        and sessions.started_at < as_of.as_of_end_at
),

device_ranks as (
    select
        customer_id,
        device_type,
        row_number() over (
            partition by customer_id
            order by count(*) desc, max(started_at) desc, device_type
        ) as device_rank
    from sessions_as_of
    where device_type is not null
    group by customer_id, device_type
),

operating_system_ranks as (
    select
        customer_id,
        operating_system,
        row_number() over (
            partition by customer_id
            order by count(*) desc, max(started_at) desc, operating_system
        ) as operating_system_rank
    from sessions_as_of
    where operating_system is not null
    group by customer_id, operating_system
),

session_stats as (
    select
        customer_id,
        count(*) as session_count,
        sum(page_views) as page_views,
        max(started_at) as last_session_at
    from sessions_as_of
    group by customer_id
),

final as (
    select
        session_stats.customer_id,
        device_ranks.device_type as primary_device_type,
        operating_system_ranks.operating_system as primary_operating_system,
        session_stats.session_count,
        session_stats.page_views,
        session_stats.last_session_at
    from session_stats
    left join device_ranks
        on
            session_stats.customer_id = device_ranks.customer_id
            and device_ranks.device_rank = 1
    left join operating_system_ranks
        on
            session_stats.customer_id = operating_system_ranks.customer_id
            and operating_system_ranks.operating_system_rank = 1
)

select * from final
