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
    select. -#}
{% macro resolve_duplicate_keys(relation, key_columns, version_column=none) -%}
    {%- set qualified_keys = [] -%}
    {%- for key in key_columns -%}
        {%- do qualified_keys.append('checked_rows.' ~ key) -%}
    {%- endfor -%}
    {%- set key_text = qualified_keys | join(" || ', ' || ") -%}
    {%- set key_window -%}
        partition by {{ key_columns | join(', ') }}, row_reason is null
        order by {% if version_column %}{{ version_column }} desc nulls last, {% endif %}raw_row_number
    {%- endset -%}
    select
        checked_rows.*,
        case
            {%- if version_column %}
            when checked_rows.key_occurrence > 1
                and checked_rows.{{ version_column }} < checked_rows.staged_version
                then 'superseded'
            {%- endif %}
            when checked_rows.key_occurrence > 1 then 'duplicate_key'
            else checked_rows.row_reason
        end as quarantine_reason,
        case
            {%- if version_column %}
            when checked_rows.key_occurrence > 1
                and checked_rows.{{ version_column }} < checked_rows.staged_version
                then '{{ key_columns | join(", ") }} has a later version ('
                || cast(checked_rows.staged_version as {{ dbt.type_string() }}) || '): ' || {{ key_text }}
            {%- endif %}
            when checked_rows.key_occurrence > 1
                then '{{ key_columns | join(", ") }} occurs more than once: ' || {{ key_text }}
            else checked_rows.row_reason_detail
        end as quarantine_detail
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
