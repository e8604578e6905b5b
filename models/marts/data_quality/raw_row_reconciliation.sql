{#- Per raw table: rows read (including CSV lines too malformed to split into columns),
    rows staged, rows quarantined. Nothing is lost when raw_rows = staged_rows +
    quarantined_rows on every line. -#}
{%- set reconciled_tables = [
    ('shop', 'customers', 'stg_shop__customers'),
    ('shop', 'orders', 'stg_shop__orders'),
    ('shop', 'order_lines', 'stg_shop__order_lines'),
    ('shop', 'products', 'stg_shop__products'),
    ('shop', 'returns', 'stg_shop__returns'),
    ('pos', 'store_transactions', 'stg_pos__store_transactions'),
    ('web', 'web_sessions', 'stg_web__sessions'),
    ('crm', 'consents', 'stg_crm__consents'),
    ('crm', 'feedback', 'stg_crm__feedback'),
] -%}

with

quarantined_rows as (
    select * from {{ ref('quarantined_rows') }}
),

quarantined_counts as (
    select
        source_name,
        table_name,
        count(*) as quarantined_rows
    from quarantined_rows
    group by source_name, table_name
),

readable_counts as (
    {% for source_name, table_name, staging_model in reconciled_tables %}
        select
            '{{ source_name }}' as source_name,
            '{{ table_name }}' as table_name,
            count(*) as readable_rows
        from {{ source(source_name, table_name) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}
),

malformed_counts as (
    select
        table_name,
        count(*) as malformed_lines
    from {{ source('loader', 'rejected_lines') }}
    group by table_name
),

raw_counts as (
    select
        readable_counts.source_name,
        readable_counts.table_name,
        readable_counts.readable_rows + coalesce(malformed_counts.malformed_lines, 0) as raw_rows
    from readable_counts
    left join malformed_counts
        on readable_counts.table_name = malformed_counts.table_name
),

staged_counts as (
    {% for source_name, table_name, staging_model in reconciled_tables %}
        select
            '{{ source_name }}' as source_name,
            '{{ table_name }}' as table_name,
            count(*) as staged_rows
        from {{ ref(staging_model) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}
),

final as (
    select
        raw_counts.source_name,
        raw_counts.table_name,
        raw_counts.raw_rows,
        staged_counts.staged_rows,
        coalesce(quarantined_counts.quarantined_rows, 0) as quarantined_rows,
        raw_counts.raw_rows
        - staged_counts.staged_rows
        - coalesce(quarantined_counts.quarantined_rows, 0) as unaccounted_rows
    from raw_counts
    inner join staged_counts
        on
            raw_counts.source_name = staged_counts.source_name
            and raw_counts.table_name = staged_counts.table_name
    left join quarantined_counts
        on
            raw_counts.source_name = quarantined_counts.source_name
            and raw_counts.table_name = quarantined_counts.table_name
)

select * from final
