{#- The raw tables of the contract with the models that parse and stage them: one list
    for the quarantine, the reconciliation and the data-quality gates. `required` is the
    source table's meta.required. -#}
{% macro raw_tables() %}
    {%- set tables = [
        {'source': 'shop', 'table': 'customers', 'base_model': 'base_shop__customers', 'staging_model': 'stg_shop__customers', 'key_column': 'customer_id'},
        {'source': 'shop', 'table': 'orders', 'base_model': 'base_shop__orders', 'staging_model': 'stg_shop__orders', 'key_column': 'order_id'},
        {'source': 'shop', 'table': 'order_lines', 'base_model': 'base_shop__order_lines', 'staging_model': 'stg_shop__order_lines', 'key_column': 'order_line_id'},
        {'source': 'shop', 'table': 'products', 'base_model': 'base_shop__products', 'staging_model': 'stg_shop__products', 'key_column': 'product_id'},
        {'source': 'shop', 'table': 'returns', 'base_model': 'base_shop__returns', 'staging_model': 'stg_shop__returns', 'key_column': 'return_id'},
        {'source': 'pos', 'table': 'store_transactions', 'base_model': 'base_pos__store_transactions', 'staging_model': 'stg_pos__store_transactions', 'key_column': 'transaction_id'},
        {'source': 'web', 'table': 'web_sessions', 'base_model': 'base_web__sessions', 'staging_model': 'stg_web__sessions', 'key_column': 'session_id'},
        {'source': 'crm', 'table': 'consents', 'base_model': 'base_crm__consents', 'staging_model': 'stg_crm__consents', 'key_column': 'consent_id'},
        {'source': 'crm', 'table': 'feedback', 'base_model': 'base_crm__feedback', 'staging_model': 'stg_crm__feedback', 'key_column': 'feedback_id'},
        {'source': 'crm', 'table': 'suppressions', 'base_model': 'base_crm__suppressions', 'staging_model': 'stg_crm__suppressions', 'key_column': 'suppression_id'},
        {'source': 'crm', 'table': 'erasure_requests', 'base_model': 'base_crm__erasure_requests', 'staging_model': 'stg_crm__erasure_requests', 'key_column': 'request_id'},
    ] -%}
    {%- for entry in tables -%}
        {%- set required = [] -%}
        {%- if execute -%}
            {%- for node in graph.sources.values() if node.package_name == project_name
                and node.source_name == entry.source and node.name == entry.table -%}
                {%- do required.append(node.meta.get('required', false)) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- do entry.update({'required': required[0] if required else false}) -%}
    {%- endfor -%}
    {{ return(tables) }}
{% endmacro %}
