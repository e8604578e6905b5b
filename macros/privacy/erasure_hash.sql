{#- SQL for the hash erasure_log keeps of an erasure request's identifier: the SHA-256 of
    'erasure:' || <identifier type> || ':' || <normalised value>. The domain prefix means
    it never equals the plain SHA-256 of an email or phone that ad platforms receive. -#}
{% macro erasure_hash(identifier_type, identifier_value) -%}
    {{ segment_warehouse.sha256_hex("'erasure:' || " ~ identifier_type ~ " || ':' || " ~ identifier_value) }}
{%- endmacro %}
