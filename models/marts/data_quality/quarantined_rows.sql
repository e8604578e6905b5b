{#- Every raw row that broke the contract, from every source, with the reason. Together
    with the staged rows it accounts for every raw row (see raw_row_reconciliation). -#}
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
            {{ key_column }} as record_key,
            quarantine_reason,
            quarantine_detail,
            raw_row,
            raw_location,
            raw_row_number
        from {{ ref(base_model) }}
        where quarantine_reason is not null
    ),
{% endfor %}

unioned as (
    {% for source_name, table_name, base_model, key_column in quarantine_sources %}
        select * from {{ table_name }}_quarantined
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}
),

final as (
    select * from unioned
)

select * from final
