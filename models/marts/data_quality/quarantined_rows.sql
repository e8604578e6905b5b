{#- Every raw row that broke the contract, from every source, with the reason. Assembled
    in stg_loader__quarantined_rows (only staging reads the raw sources); the contract
    here fixes the columns and their types. A row that names an erased person (any value
    of int_erased_identifiers in its key, detail or raw row) and every raw row of
    erasure_requests is redacted: the raw row and key are dropped and the detail says
    why, so the row is still counted (raw rows = staged + quarantined). -#}
{%- set redacted_detail = "'redacted: the row names a person who asked to be erased'" -%}

with

quarantined as (
    select * from {{ ref('stg_loader__quarantined_rows') }}
),

erased_identifiers as (
    select * from {{ ref('int_erased_identifiers') }}
),

naming_erased as (
    select distinct
        quarantined.table_name,
        quarantined.raw_location,
        quarantined.raw_row_number
    from quarantined
    inner join erased_identifiers
        on
            {{ dbt.position('lower(erased_identifiers.identifier_value)', "lower(coalesce(quarantined.record_key, '') || ' ' || coalesce(quarantined.quarantine_detail, '') || ' ' || coalesce(quarantined.raw_row, ''))") }} > 0
),

final as (
    select
        quarantined.source_name,
        quarantined.table_name,
        case
            when naming_erased.raw_row_number is null then quarantined.record_key
        end as record_key,
        quarantined.quarantine_reason,
        case
            when naming_erased.raw_row_number is null then quarantined.quarantine_detail
            else {{ redacted_detail }}
        end as quarantine_detail,
        case
            when naming_erased.raw_row_number is null and quarantined.table_name <> 'erasure_requests'
                then quarantined.raw_row
        end as raw_row,
        quarantined.raw_location,
        quarantined.raw_row_number
    from quarantined
    left join naming_erased
        on
            quarantined.table_name = naming_erased.table_name
            and quarantined.raw_location = naming_erased.raw_location
            and quarantined.raw_row_number = naming_erased.raw_row_number
)

select * from final
