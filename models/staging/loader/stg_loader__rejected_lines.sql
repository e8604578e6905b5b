{#- Lines of raw CSV files the reader could not read as a row, with their reason. Read by
    the data-quality gates and the quarantine, so only staging reads the source. -#}
with

rejected_lines as (
    select * from {{ source('loader', 'rejected_lines') }}
),

final as (
    select
        source_name,
        table_name,
        raw_location,
        line_number,
        raw_line,
        quarantine_reason,
        error_message
    from rejected_lines
)

select * from final
