{#- Every customer's segment in every family over time (type 2 history): one row per
    customer, family and version, valid from the as_of_date of the run that first put the
    customer there until (excluding) valid_to, the as_of_date of the run that saw a change;
    valid_to is null for the current version. A customer who leaves the customer base
    closes their versions without opening new ones.

    Incremental and never rebuilt by --full-refresh: each run closes the versions that
    changed and opens their successors. rewind_history and reopen_history first undo what
    earlier runs recorded for this run's date or later, so a date re-run gives the same rows
    and running an earlier date replays the history from there. anonymise_erased_history
    then re-keys every row of an erased person to an anonymous placeholder, `(erased) <n>`,
    keeping its segment and dates, so the totals recorded stay consistent; the model
    closes the placeholder's open versions on the run date, as for anyone who leaves. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_by_key_strategy(),
        unique_key=['customer_id', 'segment_family', 'valid_from'],
        on_schema_change='fail',
        full_refresh=false,
        pre_hook=[
            "{{ rewind_history('valid_from') }}",
            "{{ reopen_history('valid_to') }}",
            "{{ anonymise_erased_history('customer_id') }}",
        ],
    )
}}

-- A run whose sources failed a gate or are stale records no history:
-- depends_on: {{ ref('int_raw_tables_gated') }}, {{ ref('int_source_freshness_checked') }}
-- Erased people's rows are re-keyed to anonymous placeholders (anonymise_erased_history):
-- depends_on: {{ ref('int_erased_records') }}, {{ ref('int_erasure_requests_matched') }}, {{ ref('erasure_log') }}

with

run_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

assignments as (
    select
        customer_id,
        segment_family,
        segment
    from {{ ref('customer_segment_assignments') }}
),

{%- if is_incremental() %}

open_versions as (
    select
        customer_id,
        segment_family,
        segment,
        valid_from
    from {{ this }}
    where valid_to is null
),

compared as (
    -- one join of the open versions with today's assignments (a full outer join: either
    -- side may be missing), instead of one join to find the closed and another the opened
    select
        open_versions.customer_id as open_customer_id,
        open_versions.segment_family as open_segment_family,
        open_versions.segment as open_segment,
        open_versions.valid_from as open_valid_from,
        assignments.customer_id,
        assignments.segment_family,
        assignments.segment
    from open_versions
    full outer join assignments
        on
            open_versions.customer_id = assignments.customer_id
            and open_versions.segment_family = assignments.segment_family
    where
        open_versions.customer_id is null
        or assignments.customer_id is null
        or assignments.segment <> open_versions.segment
),

version_sides as (
    -- a change closes the open version, opens its successor, or both: each compared row
    -- meets the two sides once, so the comparison is read once and never stored
    select 'closed' as side
    union all
    select 'opened' as side
),

{%- endif %}

final as (
    {%- if is_incremental() %}
        select
            case
                when version_sides.side = 'closed' then compared.open_customer_id
                else compared.customer_id
            end as customer_id,
            case
                when version_sides.side = 'closed' then compared.open_segment_family
                else compared.segment_family
            end as segment_family,
            case
                when version_sides.side = 'closed' then compared.open_segment
                else compared.segment
            end as segment,
            case
                when version_sides.side = 'closed' then compared.open_valid_from
                else run_date.as_of_date
            end as valid_from,
            case
                when version_sides.side = 'closed' then run_date.as_of_date
            end as valid_to
        from compared
        cross join version_sides
        cross join run_date
        where
            (version_sides.side = 'closed' and compared.open_customer_id is not null)
            or (version_sides.side = 'opened' and compared.customer_id is not null)
    {%- else %}
        -- the first run opens a version for every assignment: with no open versions
        -- there is nothing to compare, and at 10M customers (238M assignments) the
        -- comparison spilled more than the disk held
        select
            assignments.customer_id,
            assignments.segment_family,
            assignments.segment,
            run_date.as_of_date as valid_from,
            cast(null as date) as valid_to
        from assignments
        cross join run_date
    {%- endif %}
)

select * from final
