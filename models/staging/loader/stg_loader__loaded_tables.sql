{#- The loader's record of every raw table of this run: where it was read from and how
    many rows its raw view reads. Read by the data-quality gates and the freshness check,
    so only staging reads the source. -#}
with

loaded_tables as (
    select * from {{ source('loader', 'loaded_tables') }}
),

final as (
    select
        source_name,
        table_name,
        raw_location,
        readable_rows
    from loaded_tables
)

select * from final
