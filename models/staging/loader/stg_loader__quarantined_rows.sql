{#- Every raw row that broke the contract, from every source, with the reason; published
    by quarantined_rows. Together with the staged rows it accounts for every raw row (see
    raw_row_reconciliation). The raw row itself is fetched back from the raw view by its
    position, so the base models never carry it for the rows that pass. It is assembled
    here, in staging, because only staging reads the raw sources. -#}
{%- set tables = raw_tables() -%}

with

rejected_lines as (
    select * from {{ ref('stg_loader__rejected_lines') }}
),

{% for entry in tables %}
    {{ entry.table }}_quarantined as (
        select
            '{{ entry.source }}' as source_name,
            '{{ entry.table }}' as table_name,
            base_rows.{{ entry.key_column }} as record_key,
            base_rows.quarantine_reason,
            base_rows.quarantine_detail,
            {{ raw_row_json(entry.source, entry.table, 'raw_rows') }} as raw_row,
            raw_rows._raw_location as raw_location,
            base_rows.raw_row_number
        from {{ ref(entry.base_model) }} as base_rows
        inner join {{ source(entry.source, entry.table) }} as raw_rows
            on base_rows.raw_row_number = raw_rows._raw_row_number
        where base_rows.quarantine_reason is not null
    ),
{% endfor %}

malformed_lines as (
    -- lines of CSV files the reader could not read as a row
    select
        source_name,
        table_name,
        cast(null as {{ dbt.type_string() }}) as record_key,
        quarantine_reason,
        error_message as quarantine_detail,
        raw_line as raw_row,
        raw_location,
        line_number as raw_row_number
    from rejected_lines
),

unioned as (
    {% for entry in tables %}
        select * from {{ entry.table }}_quarantined
        union all
    {% endfor %}
    select * from malformed_lines
),

final as (
    select * from unioned
)

select * from final
