{#- Every raw row that broke the contract, from every source, with the reason. Together
    with the staged rows it accounts for every raw row (see raw_row_reconciliation).
    The raw row itself is fetched back from the raw view by its position, so the base
    models never carry it for the rows that pass. -#}
{%- set quarantine_sources = [
    ('shop', 'customers', 'base_shop__customers', 'customer_id'),
    ('shop', 'orders', 'base_shop__orders', 'order_id'),
    ('shop', 'order_lines', 'base_shop__order_lines', 'order_line_id'),
    ('shop', 'products', 'base_shop__products', 'product_id'),
    ('shop', 'returns', 'base_shop__returns', 'return_id'),
    ('pos', 'store_transactions', 'base_pos__store_transactions', 'transaction_id'),
    ('web', 'web_sessions', 'base_web__sessions', 'session_id'),
    ('crm', 'consents', 'base_crm__consents', 'consent_id'),
    ('crm', 'feedback', 'base_crm__feedback', 'feedback_id'),
] -%}

with

{% for source_name, table_name, base_model, key_column in quarantine_sources %}
    {{ table_name }}_quarantined as (
        select
            '{{ source_name }}' as source_name,
            '{{ table_name }}' as table_name,
            base_rows.{{ key_column }} as record_key,
            base_rows.quarantine_reason,
            base_rows.quarantine_detail,
            {{ raw_row_json(source_name, table_name, 'raw_rows') }} as raw_row,
            raw_rows._raw_location as raw_location,
            base_rows.raw_row_number
        from {{ ref(base_model) }} as base_rows
        inner join {{ source(source_name, table_name) }} as raw_rows
            on base_rows.raw_row_number = raw_rows._raw_row_number
        where base_rows.quarantine_reason is not null
    ),
{% endfor %}

malformed_lines as (
    -- lines of CSV files that could not even be split into columns
    select
        source_name,
        table_name,
        cast(null as {{ dbt.type_string() }}) as record_key,
        'malformed_line' as quarantine_reason,
        error_message as quarantine_detail,
        raw_line as raw_row,
        raw_location,
        line_number as raw_row_number
    from {{ source('loader', 'rejected_lines') }}
),

unioned as (
    {% for source_name, table_name, base_model, key_column in quarantine_sources %}
        select * from {{ table_name }}_quarantined
        union all
    {% endfor %}
    select * from malformed_lines
),

final as (
    select * from unioned
)

select * from final
