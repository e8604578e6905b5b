{#- Text with accented Latin letters folded to their base letter (Müller -> Muller, Søren ->
    Soren), so that a name typed with and without its accents compares equal. 'ß' is two
    letters, not an accented one: normalise_for_matching turns it into 'ss'. -#}
{% macro fold_accents(expression) -%}
    {{ return(adapter.dispatch('fold_accents', 'segment_warehouse')(expression)) }}
{%- endmacro %}

{#- translate() exists on Postgres, Spark, Snowflake, BigQuery and DuckDB: one character for
    one, over the accented letters of the languages the shop sells in. -#}
{% macro default__fold_accents(expression) -%}
    translate(
        {{ expression }},
        'àáâãäåçèéêëìíîïñòóôõöøùúûüýÿæœłđÀÁÂÃÄÅÇÈÉÊËÌÍÎÏÑÒÓÔÕÖØÙÚÛÜÝÆŒŁĐ',
        'aaaaaaceeeeiiiinoooooouuuuyyaoldAAAAAACEEEEIIIINOOOOOOUUUUYAOLD'
    )
{%- endmacro %}

{#- DuckDB's strip_accents drops every combining accent; the letters with a stroke or a
    ligature (ø, æ, œ, ł, đ) have none to drop and are translated. -#}
{% macro duckdb__fold_accents(expression) -%}
    translate(strip_accents({{ expression }}), 'øæœłđØÆŒŁĐ', 'oaoldOAOLD')
{%- endmacro %}
