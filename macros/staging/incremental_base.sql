{#-
    Building blocks of the incremental base models (base_shop__orders,
    base_shop__order_lines, base_web__sessions). A run after the first one re-parses only
    the raw rows whose key is touched and replaces every stored row of those keys:

      - keys not stored yet, whatever their date (late rows are never lost);
      - keys with a raw row dated no earlier than the lookback start: the latest stored
        date minus var('staging.lookback_days') (updates to stored keys);
      - keys with a row that is not staged (all quarantined rows are checked again, as
        are rows with a missing key);
      - staged keys whose references changed (a customer, order or product quarantined
        since, a different currency rate);
      - every key, when the model's code or a setting it depends on changed.

    A key gone from the raw table gets a row without a raw position in the batch, so the
    delete+insert removes its stored rows, and the post-hook delete_vanished_key_rows
    removes that row. Because a key's fate only depends on its own raw rows and on what
    they reference, this gives the same rows as building the model from scratch.

    The models expect a CTE key_match with raw_key (a raw row's key) and stored_key (a
    stored row's key), the rows of the full outer join of the two by key that matter
    (incremental_base_keys).
-#}

{#- incremental, except on Spark: Delta's MERGE cannot replace the several rows a key
    may have, and dbt-spark has no delete+insert, so there the base models are tables
    rebuilt on every run (is_incremental() is then false and every raw row is parsed). -#}
{% macro incremental_base_materialization() -%}
    {{ return(adapter.dispatch('incremental_base_materialization', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__incremental_base_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_base_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{#- True on an incremental run whose stored table has this version's columns. A table
    built by a version without them (a plain table before the models were incremental)
    is parsed again in full once: delete_unkeyed_rows empties it and every raw row is
    parsed, and on_schema_change adds the columns. -#}
{% macro incremental_base_ready() -%}
    {%- if not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return('processing_fingerprint' in names) }}
{%- endmacro %}

{#- A fingerprint of what the parse depends on besides the data: the model's code, the
    contract of the sources it reads (its parsing and checks come from it) and the vars it
    reads. A stored row with another fingerprint means everything is parsed again. -#}
{% macro processing_fingerprint() -%}
    {%- set settings = {} -%}
    {%- for name in ['money.reporting_currency', 'money.max_order_amount', 'staging.min_valid_date', 'staging.source_timezone', 'staging.load_timestamp', 'raw.read_options'] -%}
        {%- do settings.update({name: var(name, none)}) -%}
    {%- endfor -%}
    {%- for source_name, table_name in model.get('sources', []) -%}
        {%- do settings.update({
            source_name ~ '.' ~ table_name: segment_warehouse.contract_column_specs(source_name, table_name)
        }) -%}
    {%- endfor -%}
    '{{ local_md5(model.raw_code ~ tojson(settings, sort_keys=true)) }}'
{%- endmacro %}

{#- True when a stored row was parsed by other code or settings. -#}
{% macro incremental_reprocess_all() -%}
    exists (
        select 1 from {{ this }}
        where coalesce(processing_fingerprint, '') <> {{ processing_fingerprint() }}
    )
{%- endmacro %}

{#- The earliest date a raw row may carry and still count as new or updated: the latest
    stored date (up to the load time, so a future-dated row cannot move it) minus
    var('staging.lookback_days'). Null when nothing is stored. -#}
{% macro incremental_lookback_start(version_column) -%}
    {%- set latest = 'max(' ~ version_column ~ ')' -%}
    (
        select {{ dbt.dateadd('day', -(var('staging.lookback_days') | int), latest) }}
        from {{ this }}
        where {{ version_column }} <= {{ segment_warehouse.load_timestamp() }}
    )
{%- endmacro %}

{#- The batch rows of the keys gone from the raw table: the key and `column_count` - 1
    nulls, the raw position among them. -#}
{% macro vanished_key_rows(column_count) -%}
    select
        key_match.stored_key
        {%- for _ in range(column_count - 1) %},
        null
        {%- endfor %}
    from key_match
    where key_match.raw_key is null and key_match.stored_key is not null
{%- endmacro %}

{#- pre-hook: deletes the stored rows without a key, which every run parses again, and
    every stored row when the code or settings changed (incremental_reprocess_all), so
    that such a run costs a rebuild rather than a rebuild plus deleting every row. Does
    nothing on the first build. -#}
{% macro delete_unkeyed_rows(key_column) -%}
    {%- if segment_warehouse.incremental_base_ready() -%}
        delete from {{ this }}
        where {{ key_column }} is null or {{ segment_warehouse.incremental_reprocess_all() }}
    {%- elif is_incremental() -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- post-hook: deletes the rows vanished_key_rows put in the batch (no raw position), once
    they have removed the stored rows of their key. -#}
{% macro delete_vanished_key_rows() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where raw_row_number is null
    {%- endif -%}
{%- endmacro %}

{#- The CTEs every incremental base model starts from, on an incremental run: `stored`
    (this table, for the model's own search for changed references), `key_match` (raw keys
    against stored keys, only the rows that matter: keys not stored yet, keys gone from
    the raw table, keys whose version is in the lookback or unreadable, every key when the
    code or settings changed) and `incremental_keys`: the raw keys of key_match and the
    stored quarantined keys, which are checked again. (Macros are called unqualified here
    so a unit test's macro overrides reach them.) `raw_version` is the SQL of a raw row's
    version; without it the stored row's `stored_version` is compared.

    `raw_relation` is the raw table, read here for its keys (and versions) alone, and
    the stored table is read for its keys and versions alone: a CTE that two parts of
    the query read is materialised with all its columns, which at 16M order lines meant
    writing every raw and stored row to disk (7.7 GB spilled) to compare two columns. -#}
{% macro incremental_base_keys(key_column, stored_version, raw_relation, raw_version=none) -%}
stored as (
    select * from {{ this }}
),

key_match as (
    -- raw keys against stored keys: new keys, keys gone from the raw table, keys in the
    -- lookback (or unreadably dated), and every key when the code or settings changed
    select
        raw_versions.{{ key_column }} as raw_key,
        stored_versions.{{ key_column }} as stored_key,
        {{ 'raw_versions.version_at' if raw_version else 'stored_versions.' ~ stored_version }} as version_at
    from (
        select
            {{ clean_text(key_column) }} as {{ key_column }}
            {%- if raw_version %},
            {{ raw_version }} as version_at
            {%- endif %}
        from {{ raw_relation }}
    ) as raw_versions
    full outer join (
        select
            {{ key_column }},
            {{ stored_version }}
        from {{ this }}
    ) as stored_versions
        on raw_versions.{{ key_column }} = stored_versions.{{ key_column }}
    where
        raw_versions.{{ key_column }} is null
        or stored_versions.{{ key_column }} is null
        {%- if raw_version %}
        or raw_versions.version_at is null
        {%- endif %}
        or {{ 'raw_versions.version_at' if raw_version else 'stored_versions.' ~ stored_version }}
        >= {{ incremental_lookback_start(stored_version) }}
        or {{ incremental_reprocess_all() }}
),

incremental_keys as (
    -- new keys, and keys with a version in the lookback
    select raw_key as {{ key_column }}
    from key_match
    where raw_key is not null

    union

    -- quarantined keys are checked again: what they reference may have arrived
    select {{ key_column }}
    from {{ this }}
    where quarantine_reason is not null
),
{%- endmacro %}

{#- The parsed rows' filter on an incremental run: rows without a key and the rows of the
    keys in `touched_relation`. -#}
{% macro incremental_base_filter(key_column, touched_relation) -%}
    {%- if incremental_base_ready() %}
    where
        {{ clean_text(key_column) }} is null
        or {{ clean_text(key_column) }} in (
            select {{ touched_relation }}.{{ key_column }} from {{ touched_relation }}
        )
    {%- endif %}
{%- endmacro %}

{#- The final rows' addition on an incremental run: the vanished keys' rows
    (vanished_key_rows) of a model with `column_count` columns. -#}
{% macro incremental_base_vanished(column_count) -%}
    {%- if incremental_base_ready() %}

    union all

    {{ vanished_key_rows(column_count) }}
    {%- endif %}
{%- endmacro %}

{#- pre-hook: lets this node's session write rows in any order. The touched-key search
    joins every raw key to every stored key; with insertion order kept, DuckDB holds
    buffers it cannot spill, and at 3 GB the order lines' increment ran out of memory
    after the orders' and sessions' (DECISIONLOG.md, "The incremental base models search
    touched keys on keys alone, in an unordered session"). A base model's rows have no
    order anyone reads. Set for the session alone: dbt gives every node a cursor of its
    own and closes it after the node, so other models, Python models among them, keep
    insertion order. Nothing on the first build, which has no search. -#}
{% macro release_insertion_order() -%}
    {{ return(adapter.dispatch('release_insertion_order', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__release_insertion_order() -%}
{%- endmacro %}

{% macro duckdb__release_insertion_order() -%}
    {%- if incremental_base_ready() -%}
        set session preserve_insertion_order = false
    {%- endif -%}
{%- endmacro %}
