{% macro sha256_hex(expression) -%}
    {{ return(adapter.dispatch('sha256_hex', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{% macro default__sha256_hex(expression) -%}
    lower(sha2(cast({{ expression }} as {{ dbt.type_string() }}), 256))
{%- endmacro %}

{% macro duckdb__sha256_hex(expression) -%}
    sha256(cast({{ expression }} as {{ dbt.type_string() }}))
{%- endmacro %}

{% macro postgres__sha256_hex(expression) -%}
    encode(sha256(convert_to(cast({{ expression }} as {{ dbt.type_string() }}), 'UTF8')), 'hex')
{%- endmacro %}
