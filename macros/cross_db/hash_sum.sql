{#- SQL aggregate: a fingerprint of a set of rows, the sum of a 64-bit hash of each row's
    columns, as text ('0' for no rows). The sum is taken exactly (a 128-bit integer on
    DuckDB, a 38-digit decimal on Spark), so it does not depend on the rows' order and
    counts duplicates. Meant for "did these rows change", not for security. -#}
{% macro hash_sum(columns) -%}
    {{ return(adapter.dispatch('hash_sum', 'segment_warehouse')(columns)) }}
{%- endmacro %}

{% macro default__hash_sum(columns) -%}
    coalesce(cast(sum(cast(xxhash64({{ columns | join(', ') }}) as decimal(38, 0))) as {{ dbt.type_string() }}), '0')
{%- endmacro %}

{% macro duckdb__hash_sum(columns) -%}
    coalesce(cast(sum(hash({{ columns | join(', ') }})) as {{ dbt.type_string() }}), '0')
{%- endmacro %}
