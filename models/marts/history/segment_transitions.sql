{#- Movements between segments per family and period (var history.transition_period:
    week or month): for consecutive periods with runs, from the state on the last run date
    of the earlier period to the state on the last run date of the later one. One row per
    family, period and from -> to pair with customers; transition_type stay, move, entry
    (a customer not in the customer base before, from_segment '(entered)') or exit
    (to_segment '(exited)'). transition_rate is the share of the from segment's customers,
    null for entries. The first period with runs has no earlier state and no rows.

    Work scales with the changes, not the customer base: only customers with a version
    starting or ending within a period are looked up; everyone else stayed, counted as the
    from segment's size less those who left it. -#}
{%- set period = var('history.transition_period') -%}
{%- if period not in ['week', 'month'] -%}
    {{ exceptions.raise_compiler_error(
        "var history.transition_period must be 'week' or 'month'; got '" ~ period ~ "'"
    ) }}
{%- endif -%}

with

history as (
    select * from {{ ref('segment_membership_history') }}
),

size_history as (
    select * from {{ ref('segment_size_history') }}
),

run_dates as (
    select distinct
        as_of_date,
        cast({{ dbt.date_trunc(period, 'as_of_date') }} as date) as period_start
    from size_history
),

period_ends as (
    select
        period_start,
        max(as_of_date) as to_as_of_date
    from run_dates
    group by period_start
),

period_pairs as (
    select
        period_start,
        to_as_of_date,
        lag(to_as_of_date) over (order by period_start) as from_as_of_date
    from period_ends
),

consecutive_periods as (
    select * from period_pairs
    where from_as_of_date is not null
),

version_boundaries as (
    select
        customer_id,
        segment_family,
        cast({{ dbt.date_trunc(period, 'valid_from') }} as date) as period_start
    from history
    union
    select
        customer_id,
        segment_family,
        cast({{ dbt.date_trunc(period, 'valid_to') }} as date) as period_start
    from history
    where valid_to is not null
),

changed_customers as (
    select
        version_boundaries.customer_id,
        version_boundaries.segment_family,
        consecutive_periods.period_start,
        consecutive_periods.from_as_of_date,
        consecutive_periods.to_as_of_date
    from version_boundaries
    inner join consecutive_periods
        on version_boundaries.period_start = consecutive_periods.period_start
),

changed_states as (
    select
        changed_customers.segment_family,
        changed_customers.period_start,
        changed_customers.from_as_of_date,
        changed_customers.to_as_of_date,
        max(
            case
                when
                    history.valid_from <= changed_customers.from_as_of_date
                    and (history.valid_to is null or history.valid_to > changed_customers.from_as_of_date)
                    then history.segment
            end
        ) as from_segment,
        max(
            case
                when
                    history.valid_from <= changed_customers.to_as_of_date
                    and (history.valid_to is null or history.valid_to > changed_customers.to_as_of_date)
                    then history.segment
            end
        ) as to_segment
    from changed_customers
    inner join history
        on
            changed_customers.customer_id = history.customer_id
            and changed_customers.segment_family = history.segment_family
    group by
        changed_customers.customer_id,
        changed_customers.segment_family,
        changed_customers.period_start,
        changed_customers.from_as_of_date,
        changed_customers.to_as_of_date
),

moves as (
    select
        segment_family,
        period_start,
        from_as_of_date,
        to_as_of_date,
        coalesce(from_segment, '(entered)') as from_segment,
        coalesce(to_segment, '(exited)') as to_segment,
        count(*) as customer_count
    from changed_states
    where
        (from_segment is not null or to_segment is not null)
        and (from_segment is null or to_segment is null or from_segment <> to_segment)
    group by
        segment_family,
        period_start,
        from_as_of_date,
        to_as_of_date,
        coalesce(from_segment, '(entered)'),
        coalesce(to_segment, '(exited)')
),

starting_sizes as (
    select
        size_history.segment_family,
        size_history.segment,
        size_history.customer_count,
        consecutive_periods.period_start,
        consecutive_periods.from_as_of_date,
        consecutive_periods.to_as_of_date
    from size_history
    inner join consecutive_periods
        on size_history.as_of_date = consecutive_periods.from_as_of_date
    where
        size_history.customer_count > 0
        {# 'Not profiled' counts objectors to profiling, who have no membership: someone
            who objects exits their segments. #}
        and size_history.segment <> 'Not profiled'
),

departures as (
    select
        segment_family,
        period_start,
        from_segment,
        sum(customer_count) as customer_count
    from moves
    where from_segment <> '(entered)'
    group by segment_family, period_start, from_segment
),

stays as (
    select
        starting_sizes.segment_family,
        starting_sizes.period_start,
        starting_sizes.from_as_of_date,
        starting_sizes.to_as_of_date,
        starting_sizes.segment as from_segment,
        starting_sizes.segment as to_segment,
        starting_sizes.customer_count - coalesce(departures.customer_count, 0) as customer_count
    from starting_sizes
    left join departures
        on
            starting_sizes.segment_family = departures.segment_family
            and starting_sizes.period_start = departures.period_start
            and starting_sizes.segment = departures.from_segment
),

transitions as (
    select * from moves
    union all
    select * from stays
    where customer_count > 0
),

final as (
    select
        transitions.segment_family,
        transitions.period_start,
        transitions.from_as_of_date,
        transitions.to_as_of_date,
        transitions.from_segment,
        transitions.to_segment,
        case
            when transitions.from_segment = '(entered)' then 'entry'
            when transitions.to_segment = '(exited)' then 'exit'
            when transitions.from_segment = transitions.to_segment then 'stay'
            else 'move'
        end as transition_type,
        cast(transitions.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        case
            when transitions.from_segment <> '(entered)'
                then cast(transitions.customer_count as {{ type_ratio() }}) / starting_sizes.customer_count
        end as transition_rate
    from transitions
    left join starting_sizes
        on
            transitions.segment_family = starting_sizes.segment_family
            and transitions.period_start = starting_sizes.period_start
            and transitions.from_segment = starting_sizes.segment
)

select * from final
