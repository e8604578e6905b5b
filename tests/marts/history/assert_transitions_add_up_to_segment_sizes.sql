{#- Every period's transitions account for everyone: per family, the customers leaving
    each segment (stays, moves, exits) add up to its size on from_as_of_date, and those
    arriving in each segment (stays, moves, entries) to its size on to_as_of_date.
    'Not profiled' (objectors to profiling, who are in no segment) has no transitions. -#}
with

transitions as (
    select * from {{ ref('segment_transitions') }}
),

size_history as (
    select * from {{ ref('segment_size_history') }}
),

periods as (
    select distinct
        segment_family,
        period_start,
        from_as_of_date,
        to_as_of_date
    from transitions
),

outflows as (
    select
        segment_family,
        period_start,
        from_segment as segment,
        sum(customer_count) as customer_count
    from transitions
    where transition_type <> 'entry'
    group by segment_family, period_start, from_segment
),

inflows as (
    select
        segment_family,
        period_start,
        to_segment as segment,
        sum(customer_count) as customer_count
    from transitions
    where transition_type <> 'exit'
    group by segment_family, period_start, to_segment
),

starting as (
    select
        periods.segment_family,
        periods.period_start,
        size_history.segment,
        size_history.customer_count
    from periods
    inner join size_history
        on
            periods.segment_family = size_history.segment_family
            and periods.from_as_of_date = size_history.as_of_date
    where size_history.customer_count > 0 and size_history.segment <> 'Not profiled'
),

ending as (
    select
        periods.segment_family,
        periods.period_start,
        size_history.segment,
        size_history.customer_count
    from periods
    inner join size_history
        on
            periods.segment_family = size_history.segment_family
            and periods.to_as_of_date = size_history.as_of_date
    where size_history.customer_count > 0 and size_history.segment <> 'Not profiled'
),

compared as (
    select
        'leaving' as direction,
        coalesce(starting.segment_family, outflows.segment_family) as segment_family,
        coalesce(starting.period_start, outflows.period_start) as period_start,
        coalesce(starting.segment, outflows.segment) as segment,
        starting.customer_count as segment_size,
        outflows.customer_count as transition_total
    from starting
    full outer join outflows
        on
            starting.segment_family = outflows.segment_family
            and starting.period_start = outflows.period_start
            and starting.segment = outflows.segment
    union all
    select
        'arriving' as direction,
        coalesce(ending.segment_family, inflows.segment_family) as segment_family,
        coalesce(ending.period_start, inflows.period_start) as period_start,
        coalesce(ending.segment, inflows.segment) as segment,
        ending.customer_count as segment_size,
        inflows.customer_count as transition_total
    from ending
    full outer join inflows
        on
            ending.segment_family = inflows.segment_family
            and ending.period_start = inflows.period_start
            and ending.segment = inflows.segment
)

select * from compared
where coalesce(segment_size, -1) <> coalesce(transition_total, -1)
