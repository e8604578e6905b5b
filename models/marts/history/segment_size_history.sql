{#- Size and share of every segment of every family on every run date (as_of_date): the
    run's segment_summary, plus a row with zero customers for each segment that had
    customers on the previous run date and has none now.

    Incremental and never rebuilt by --full-refresh; rewind_history first removes what
    earlier runs recorded for this run's date or later, so re-running a date replaces its
    rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_by_key_strategy(),
        unique_key=['as_of_date', 'segment_family', 'segment'],
        on_schema_change='fail',
        full_refresh=false,
        pre_hook="{{ rewind_history('as_of_date') }}",
    )
}}

-- A run whose sources failed a gate or are stale records no history:
-- depends_on: {{ ref('int_raw_tables_gated') }}, {{ ref('int_source_freshness_checked') }}

with

run_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

summary as (
    select * from {{ ref('segment_summary') }}
),

current_sizes as (
    select
        run_date.as_of_date,
        summary.segment_family,
        summary.segment,
        summary.customer_count,
        summary.consented_customer_count,
        summary.customer_share,
        summary.revenue,
        summary.revenue_share
    from summary
    cross join run_date
),

{% if is_incremental() -%}
    previous_sizes as (
        select
            segment_family,
            segment
        from {{ this }}
        where
            customer_count > 0
            and as_of_date = (select max(earlier.as_of_date) from {{ this }} as earlier)
    ),
{%- else -%}
    previous_sizes as (
        select
            segment_family,
            segment
        from current_sizes
        where 1 = 0
    ),
{%- endif %}

emptied_segments as (
    select
        run_date.as_of_date,
        previous_sizes.segment_family,
        previous_sizes.segment,
        cast(0 as {{ dbt.type_bigint() }}) as customer_count,
        cast(0 as {{ dbt.type_bigint() }}) as consented_customer_count,
        cast(0 as {{ type_ratio() }}) as customer_share,
        cast(0 as {{ type_money() }}) as revenue,
        cast(0 as {{ type_ratio() }}) as revenue_share
    from previous_sizes
    cross join run_date
    left join current_sizes
        on
            previous_sizes.segment_family = current_sizes.segment_family
            and previous_sizes.segment = current_sizes.segment
    where current_sizes.segment is null
),

final as (
    select * from current_sizes
    union all
    select * from emptied_segments
)

select * from final
