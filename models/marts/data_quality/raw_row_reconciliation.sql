{#- Per raw table, as of this run: rows read (including CSV lines too malformed to read),
    rows staged, rows quarantined, and the data-quality gate's verdict
    (int_raw_tables_gated, which stops the run when a gate fails). Nothing is lost when
    raw_rows = staged_rows + quarantined_rows on every line. -#}
with

gates as (
    select * from {{ ref('int_raw_tables_gated') }}
),

latest_run as (
    select max(checked_at) as checked_at from gates
),

final as (
    select
        gates.source_name,
        gates.table_name,
        gates.raw_location,
        gates.raw_rows,
        gates.staged_rows,
        gates.quarantined_rows,
        gates.unaccounted_rows,
        gates.quarantined_share,
        gates.top_reasons,
        gates.previous_raw_rows,
        gates.volume_drop_share,
        gates.gate_status,
        gates.gate_message,
        gates.checked_at
    from gates
    inner join latest_run
        on gates.checked_at = latest_run.checked_at
)

select * from final
