{#- One row per erasure request (per identifier it gave): a hash of the identifier, never
    the identifier itself, when it was asked for, when it was first applied, whether it
    matched a person and how many source records were erased. Incremental and never
    rebuilt by --full-refresh, so the date a request was first applied stays as recorded;
    whether it matched and the record count follow the latest run (a request for a
    customer who is not in the data yet applies as soon as they are). -#}
{{
    config(
        materialized='incremental',
        incremental_strategy=replace_by_key_strategy(),
        unique_key=['erasure_hash'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

matched as (
    select * from {{ ref('int_erasure_requests_matched') }}
),

run_date as (
    select as_of_date from {{ ref('int_as_of_date_resolved') }}
),

person_counts as (
    select distinct
        erasure_hash,
        person_id,
        person_record_count
    from matched
    where is_matched
),

requests as (
    select
        matched.erasure_hash,
        min(matched.identifier_type) as identifier_type,
        min(matched.requested_at) as requested_at,
        max(case when matched.is_matched then 1 else 0 end) = 1 as is_matched
    from matched
    group by matched.erasure_hash
),

record_counts as (
    select
        erasure_hash,
        sum(person_record_count) as erased_record_count
    from person_counts
    group by erasure_hash
),

recorded as (
    {%- if is_incremental() %}
        select
            erasure_hash,
            first_applied_as_of_date,
            first_applied_at
        from {{ this }}
    {%- else %}
        select
            cast(null as {{ dbt.type_string() }}) as erasure_hash,
            cast(null as date) as first_applied_as_of_date,
            cast(null as {{ dbt.type_timestamp() }}) as first_applied_at
        where 1 = 0
    {%- endif %}
),

final as (
    select
        requests.erasure_hash,
        requests.identifier_type,
        cast(coalesce(record_counts.erased_record_count, 0) as {{ dbt.type_bigint() }}) as erased_record_count,
        requests.is_matched,
        coalesce(recorded.first_applied_as_of_date, run_date.as_of_date) as first_applied_as_of_date,
        requests.requested_at,
        coalesce(recorded.first_applied_at, {{ load_timestamp() }}) as first_applied_at
    from requests
    cross join run_date
    left join record_counts
        on requests.erasure_hash = record_counts.erasure_hash
    left join recorded
        on requests.erasure_hash = recorded.erasure_hash
)

select * from final
