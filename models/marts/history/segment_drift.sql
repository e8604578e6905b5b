{#- How much each segment moved since the previous run: its share of customers on this
    run's as_of_date against the latest earlier run date in segment_size_history, in share
    points (0.01 = 1 point). drift_status: new (no customers before), emptied (customers
    before, none now), shifted (share moved more than history.drift_max_share_change),
    stable, or first run (no earlier run recorded). -#}
{%- set max_change = var('history.drift_max_share_change') -%}

with

run_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

size_history as (
    select * from {{ ref('segment_size_history') }}
),

previous_run as (
    select max(size_history.as_of_date) as previous_as_of_date
    from size_history
    cross join run_date
    where size_history.as_of_date < run_date.as_of_date
),

current_sizes as (
    select size_history.*
    from size_history
    inner join run_date
        on size_history.as_of_date = run_date.as_of_date
),

previous_sizes as (
    select size_history.*
    from size_history
    inner join previous_run
        on size_history.as_of_date = previous_run.previous_as_of_date
),

compared as (
    select
        coalesce(current_sizes.segment_family, previous_sizes.segment_family) as segment_family,
        coalesce(current_sizes.segment, previous_sizes.segment) as segment,
        coalesce(current_sizes.customer_count, 0) as customer_count,
        previous_sizes.customer_count as previous_customer_count,
        coalesce(current_sizes.customer_share, 0) as customer_share,
        previous_sizes.customer_share as previous_customer_share,
        coalesce(current_sizes.customer_share, 0) - previous_sizes.customer_share as share_change
    from current_sizes
    full outer join previous_sizes
        on
            current_sizes.segment_family = previous_sizes.segment_family
            and current_sizes.segment = previous_sizes.segment
),

final as (
    select
        compared.segment_family,
        compared.segment,
        cast(compared.customer_count as {{ dbt.type_bigint() }}) as customer_count,
        cast(compared.previous_customer_count as {{ dbt.type_bigint() }}) as previous_customer_count,
        cast(compared.customer_share as {{ type_ratio() }}) as customer_share,
        cast(compared.previous_customer_share as {{ type_ratio() }}) as previous_customer_share,
        cast(compared.share_change as {{ type_ratio() }}) as share_change,
        case
            when previous_run.previous_as_of_date is null then 'first run'
            when coalesce(compared.previous_customer_count, 0) = 0 and compared.customer_count > 0 then 'new'
            when compared.customer_count = 0 and compared.previous_customer_count > 0 then 'emptied'
            when abs(compared.share_change) > {{ max_change }} then 'shifted'
            else 'stable'
        end as drift_status,
        previous_run.previous_as_of_date,
        run_date.as_of_date
    from compared
    cross join previous_run
    cross join run_date
    where compared.customer_count > 0 or compared.previous_customer_count > 0
)

select * from final
