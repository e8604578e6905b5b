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

open_versions as (
    {%- if is_incremental() %}
        select
            customer_id,
            segment_family,
            segment,
            valid_from
        from {{ this }}
        where valid_to is null
    {%- else %}
        select
            customer_id,
            segment_family,
            segment,
            cast(null as date) as valid_from
        from assignments
        where 1 = 0
    {%- endif %}
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

closed_versions as (
    select
        compared.open_customer_id as customer_id,
        compared.open_segment_family as segment_family,
        compared.open_segment as segment,
        compared.open_valid_from as valid_from,
        run_date.as_of_date as valid_to
    from compared
    cross join run_date
    where compared.open_customer_id is not null
),

opened_versions as (
    select
        compared.customer_id,
        compared.segment_family,
        compared.segment,
        run_date.as_of_date as valid_from,
        cast(null as date) as valid_to
    from compared
    cross join run_date
    where compared.customer_id is not null
),

final as (
    select * from closed_versions
    union all
    select * from opened_versions
)

select * from final
