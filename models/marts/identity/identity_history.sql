{#- Which person every source record belonged to over time (type 2 history): one row per
    record and version, valid from the as_of_date of the run that resolved the record to
    customer_id until, excluding, valid_to (null while current). change_type says what a
    version records: first_seen, merged (the record joined a person that already
    existed) or split (the record became a person of its own or of a new group). A
    record that disappears from the sources closes its version.

    Incremental and never rebuilt by --full-refresh, like segment_membership_history:
    re-running a date replaces its versions; an earlier date replays from there. An
    erased person's records are left out, and erase_history deletes their earlier rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_by_key_strategy(),
        unique_key=['source', 'source_customer_id', 'valid_from'],
        on_schema_change='fail',
        full_refresh=false,
        pre_hook=[
            "{{ rewind_history('valid_from') }}",
            "{{ reopen_history('valid_to') }}",
            "{{ erase_history(['customer_id', 'previous_customer_id', 'source_customer_id']) }}",
        ],
    )
}}

-- A run whose sources failed a gate or are stale records no history:
-- depends_on: {{ ref('int_raw_tables_gated') }}, {{ ref('int_source_freshness_checked') }}
-- Erased people are deleted from the history (erase_history):
-- depends_on: {{ ref('int_erased_identifiers') }}

with

run_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

resolved as (
    select
        source,
        source_customer_id,
        customer_id
    from {{ ref('int_identity_records_resolved') }}
    where not is_erased
),

open_versions as (
    {%- if is_incremental() %}
        select
            source,
            source_customer_id,
            customer_id,
            valid_from,
            change_type,
            previous_customer_id
        from {{ this }}
        where valid_to is null
    {%- else %}
        select
            source,
            source_customer_id,
            customer_id,
            cast(null as date) as valid_from,
            cast(null as {{ dbt.type_string() }}) as change_type,
            cast(null as {{ dbt.type_string() }}) as previous_customer_id
        from resolved
        where 1 = 0
    {%- endif %}
),

known_people as (
    select distinct customer_id
    from open_versions
),

compared as (
    -- one join of the open versions with today's resolution (a full outer join: either
    -- side may be missing), instead of one join to find the closed and another the opened
    select
        open_versions.source as open_source,
        open_versions.source_customer_id as open_source_customer_id,
        open_versions.customer_id as open_customer_id,
        open_versions.valid_from as open_valid_from,
        open_versions.change_type as open_change_type,
        open_versions.previous_customer_id as open_previous_customer_id,
        resolved.source,
        resolved.source_customer_id,
        resolved.customer_id
    from open_versions
    full outer join resolved
        on
            open_versions.source = resolved.source
            and open_versions.source_customer_id = resolved.source_customer_id
    where
        open_versions.source is null
        or resolved.source is null
        or resolved.customer_id <> open_versions.customer_id
),

closed_versions as (
    select
        compared.open_source as source,  -- noqa: RF04
        compared.open_source_customer_id as source_customer_id,
        compared.open_customer_id as customer_id,
        compared.open_valid_from as valid_from,
        run_date.as_of_date as valid_to,
        compared.open_change_type as change_type,
        compared.open_previous_customer_id as previous_customer_id
    from compared
    cross join run_date
    where compared.open_source is not null
),

opened_versions as (
    select
        compared.source,
        compared.source_customer_id,
        compared.customer_id,
        run_date.as_of_date as valid_from,
        cast(null as date) as valid_to,
        case
            when compared.open_source is null then 'first_seen'
            when known_people.customer_id is not null then 'merged'
            else 'split'
        end as change_type,
        compared.open_customer_id as previous_customer_id
    from compared
    cross join run_date
    left join known_people
        on compared.customer_id = known_people.customer_id
    where compared.source is not null
),

final as (
    select * from closed_versions
    union all
    select * from opened_versions
)

select * from final
