{#-
    Row checks for staging. A check is a (condition, reason, detail) triple: a SQL
    condition that is true when the row breaks the contract, a reason code, and a SQL
    text expression explaining it. The first check that fires decides the reason, so
    list checks from the most to the least fundamental.
-#}

{% macro quarantine_reason(checks) -%}
    case
        {%- for condition, reason, detail in checks %}
        when {{ condition }} then '{{ reason }}'
        {%- endfor %}
    end
{%- endmacro %}

{% macro quarantine_detail(checks) -%}
    case
        {%- for condition, reason, detail in checks %}
        when {{ condition }} then {{ detail }}
        {%- endfor %}
    end
{%- endmacro %}

{#- A required value is empty. For a parsed column pass parsed=true: emptiness is then
    judged on <column>_text, so a value that does not parse is not reported as empty. -#}
{% macro check_missing(column, parsed=false) -%}
    {%- set tested = column ~ '_text' if parsed else column -%}
    {{ return((tested ~ ' is null', 'missing_value', "'" ~ column ~ " is empty'")) }}
{%- endmacro %}

{#- A value was given but does not parse; expects <column>_text next to <column>. -#}
{% macro check_parses(column, type_description) -%}
    {{ return((
        column ~ '_text is not null and ' ~ column ~ ' is null',
        'invalid_value',
        "'" ~ column ~ " is not " ~ type_description ~ ": ' || " ~ column ~ "_text"
    )) }}
{%- endmacro %}

{#- A timestamp after the load time or before var('staging.min_valid_date'). -#}
{% macro check_timestamp_range(column) -%}
    {{ return([
        (
            column ~ ' > ' ~ segment_warehouse.load_timestamp(),
            'future_timestamp',
            "'" ~ column ~ " is after the load time: ' || " ~ column ~ "_text"
        ),
        (
            column ~ ' < ' ~ segment_warehouse.min_valid_timestamp(),
            'timestamp_out_of_range',
            "'" ~ column ~ " is before staging.min_valid_date: ' || " ~ column ~ "_text"
        ),
    ]) }}
{%- endmacro %}

{#- The checked rows of `relation` with their final quarantine_reason and
    quarantine_detail: the first failed check (row_reason), else, among the rows of a key
    that pass every check, one is staged and the others are quarantined: duplicate_key
    for a repeat of the staged row's key, or superseded for an older version of it. The
    staged row is the first in the file (lowest raw_row_number) or, with
    `version_column`, the latest version (ties: the first in the file). One window over
    `relation` numbers each key's rows, so `relation` is read once: read twice (a narrow
    window joined back to the wide rows), DuckDB kept every checked row as a
    materialised CTE (DECISIONLOG.md, "The duplicate-key check reads the checked rows
    once"). Expects row_reason, row_reason_detail and raw_row_number; adds the helper
    columns key_occurrence (and staged_version), which callers leave out of their final
    select.

    With `after_write=true`, a build from scratch on DuckDB leaves repeated keys
    unsettled here and the model's post-hook settle_duplicate_keys settles them in the
    written table, from its keys alone: the window holds every checked row, which is
    more than the disk at 10M customers' order lines (DECISIONLOG.md, "Repeated order
    lines are settled after they are written"). Incremental runs and other engines
    settle them here (duplicate_keys_settle_after_write). -#}
{% macro resolve_duplicate_keys(relation, key_columns, version_column=none, after_write=false) -%}
    {%- if after_write and segment_warehouse.duplicate_keys_settle_after_write() -%}
    select
        *,
        row_reason as quarantine_reason,
        row_reason_detail as quarantine_detail
    from {{ relation }}
    {%- else -%}
    {%- set key_window -%}
        partition by {{ key_columns | join(', ') }}, row_reason is null
        order by {{ segment_warehouse.staged_row_first(version_column) }}
    {%- endset -%}
    select
        checked_rows.*,
        {{ segment_warehouse.settled_duplicate_reason('checked_rows', version_column) }}
            as quarantine_reason,
        {{ segment_warehouse.settled_duplicate_detail('checked_rows', key_columns, version_column) }}
            as quarantine_detail
    from (
        select
            *,
            {%- if version_column %}
            case when row_reason is null then first_value({{ version_column }}) over (
                {{ key_window }}
            ) end as staged_version,
            {%- endif %}
            case when row_reason is null then row_number() over (
                {{ key_window }}
            ) end as key_occurrence
        from {{ relation }}
    ) as checked_rows
    {%- endif -%}
{%- endmacro %}

{#- The order of a key's valid rows in which the first is staged: the latest version
    (with `version_column`), then the first in the file. Shared by the window in
    resolve_duplicate_keys and the post-hook settle_duplicate_keys, so both stage the
    same row. -#}
{% macro staged_row_first(version_column=none) -%}
    {% if version_column %}{{ version_column }} desc nulls last, {% endif %}raw_row_number
{%- endmacro %}

{#- The final quarantine_reason and quarantine_detail of a row of `alias` that carries
    key_occurrence (its place among its key's valid rows, null for a row that failed a
    check), staged_version (with `version_column`) and row_reason(_detail). -#}
{% macro settled_duplicate_reason(alias, version_column=none) -%}
    case
        {%- if version_column %}
        when {{ alias }}.key_occurrence > 1
            and {{ alias }}.{{ version_column }} < {{ alias }}.staged_version
            then 'superseded'
        {%- endif %}
        when {{ alias }}.key_occurrence > 1 then 'duplicate_key'
        else {{ alias }}.row_reason
    end
{%- endmacro %}

{% macro settled_duplicate_detail(alias, key_columns, version_column=none) -%}
    {%- set qualified_keys = [] -%}
    {%- for key in key_columns -%}
        {%- do qualified_keys.append(alias ~ '.' ~ key) -%}
    {%- endfor -%}
    {%- set key_text = qualified_keys | join(" || ', ' || ") -%}
    case
        {%- if version_column %}
        when {{ alias }}.key_occurrence > 1
            and {{ alias }}.{{ version_column }} < {{ alias }}.staged_version
            then '{{ key_columns | join(", ") }} has a later version ('
            || cast({{ alias }}.staged_version as {{ dbt.type_string() }}) || '): ' || {{ key_text }}
        {%- endif %}
        when {{ alias }}.key_occurrence > 1
            then '{{ key_columns | join(", ") }} occurs more than once: ' || {{ key_text }}
        else {{ alias }}.row_reason_detail
    end
{%- endmacro %}

{#- Whether this build of a model that calls resolve_duplicate_keys(after_write=true)
    leaves its repeated keys to the post-hook settle_duplicate_keys: a build from scratch
    (a first build or a full refresh, every raw row at once) on an engine that updates a
    table in place. An incremental run's batch is small, so its window is cheap and the
    post-hook would cost a read of every stored key (7.7 s a day at 1M customers). -#}
{% macro duplicate_keys_settle_after_write() -%}
    {{ return(not is_incremental() and adapter.dispatch('duplicate_keys_settle_after_write', 'segment_warehouse')()) }}
{%- endmacro %}

{#- dbt-spark's Parquet tables take no update, and Spark's window sorts and spills its
    rows: there the statement settles repeated keys. -#}
{% macro default__duplicate_keys_settle_after_write() -%}
    {{ return(false) }}
{%- endmacro %}

{% macro duckdb__duplicate_keys_settle_after_write() -%}
    {{ return(true) }}
{%- endmacro %}

{#- Post-hook of a model that calls resolve_duplicate_keys(after_write=true): settles the
    repeated keys of the written table as the window would have. The candidates are the
    rows that passed every check (quarantine_reason null) and the rows an earlier run
    settled (duplicate_key, superseded), so running it again changes nothing; only keys
    with more than one candidate, or with a settled row, are numbered, and finding them
    reads the key columns alone. Nothing to do where the statement settled them
    (duplicate_keys_settle_after_write). -#}
{% macro settle_duplicate_keys(key_columns, version_column=none) -%}
    {%- if segment_warehouse.duplicate_keys_settle_after_write() -%}
    {%- set keys = key_columns | join(', ') -%}
    {%- set candidate -%}
        (quarantine_reason is null or quarantine_reason in ('duplicate_key', 'superseded'))
    {%- endset -%}
    {%- set key_window -%}
        partition by {{ keys }}
        order by {{ segment_warehouse.staged_row_first(version_column) }}
    {%- endset -%}
    update {{ this }} as target
    set
        quarantine_reason = settled.quarantine_reason,
        quarantine_detail = settled.quarantine_detail
    from (
        select
            numbered.raw_row_number,
            {%- for key in key_columns %}
            numbered.{{ key }},
            {%- endfor %}
            {{ segment_warehouse.settled_duplicate_reason('numbered', version_column) }}
                as quarantine_reason,
            {{ segment_warehouse.settled_duplicate_detail('numbered', key_columns, version_column) }}
                as quarantine_detail
        from (
            select
                candidates.*,
                cast(null as {{ dbt.type_string() }}) as row_reason,
                cast(null as {{ dbt.type_string() }}) as row_reason_detail,
                {%- if version_column %}
                first_value(candidates.{{ version_column }}) over ({{ key_window }}) as staged_version,
                {%- endif %}
                row_number() over ({{ key_window }}) as key_occurrence
            from {{ this }} as candidates
            inner join (
                select {{ keys }}
                from {{ this }}
                where {{ candidate }}
                group by {{ keys }}
                having count(*) > 1 or count(quarantine_reason) > 0
            ) as repeated_keys
                using ({{ keys }})
            where {{ candidate }}
        ) as numbered
    ) as settled
    where
        target.raw_row_number = settled.raw_row_number
        {%- for key in key_columns %}
        and target.{{ key }} = settled.{{ key }}
        {%- endfor %}
        and (
            target.quarantine_reason is distinct from settled.quarantine_reason
            or target.quarantine_detail is distinct from settled.quarantine_detail
        )
    {%- endif -%}
{%- endmacro %}

{#- A reference to a customer that is absent from, or quarantined in, the customers
    table. Only applies when the customers table is given; expects the columns
    is_customer_master_given, is_known_customer and is_staged_customer. -#}
{% macro customer_reference_checks(column='customer_id') -%}
    {{ return([
        (
            'is_customer_master_given and ' ~ column ~ ' is not null and not is_known_customer',
            'unknown_customer',
            "'" ~ column ~ " is not in customers: ' || " ~ column,
        ),
        (
            'is_customer_master_given and ' ~ column ~ ' is not null and not is_staged_customer',
            'customer_quarantined',
            "'" ~ column ~ " belongs to a quarantined customer: ' || " ~ column,
        ),
    ]) }}
{%- endmacro %}

{#- The rows of `relation` with what customer_reference_checks expects: whether the
    customers table is given, and whether the row's customer is in it and staged. Expects
    the CTEs customer_keys and customer_master. -#}
{% macro customer_referenced(relation) -%}
    select
        {{ relation }}.*,
        customer_master.is_given as is_customer_master_given,
        customer_keys.customer_id is not null as is_known_customer,
        coalesce(customer_keys.is_staged, false) as is_staged_customer
    from {{ relation }}
    cross join customer_master
    left join customer_keys
        on {{ relation }}.customer_id = customer_keys.customer_id
{%- endmacro %}

{#- The rows of `relation` with row_reason and row_reason_detail, the first of `checks`
    that fires (resolve_duplicate_keys then settles repeated keys). -#}
{% macro quarantine_checked(relation, checks) -%}
    select
        *,
        {{ quarantine_reason(checks) }} as row_reason,
        {{ quarantine_detail(checks) }} as row_reason_detail
    from {{ relation }}
{%- endmacro %}
