{#-
    Publishes every source table of this project as a view in var('raw_schema') whose
    columns are exactly the contract's columns (models/staging/*/_*__sources.yml), all
    as text, plus _raw_location (where the rows were read from) and _raw_row_number
    (1 for the first data row of the file or table, in storage order).

    For each table, in order:
      1. a file <raw_data_dir>/<table>.parquet, .csv or .csv.gz (DuckDB only);
      2. a table or view <raw_input_schema>.<table>;
      3. nothing: a required table (meta.required) fails the run with a message naming
         what was looked for; an optional table becomes an empty view.
    A found table missing a required column fails the run, naming the file and column.
    Optional columns that are absent become null; extra columns are ignored.
-#}
{% macro load_raw_sources() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}

    {%- set raw_schema = var('raw_schema') -%}
    {%- set data_dir = var('raw_data_dir', none) -%}
    {%- set input_schema = var('raw_input_schema', none) -%}
    {%- set schema_relation = api.Relation.create(database=target.database, schema=raw_schema) -%}
    {%- do adapter.create_schema(schema_relation) -%}

    {%- set contract_sources = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- if node.source_meta.get('raw_contract', false) -%}
            {%- do contract_sources.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do segment_warehouse.create_rejected_lines_table(raw_schema) -%}

    {%- for node in contract_sources | sort(attribute='name') -%}
        {%- set table_name = node.name -%}
        {%- set contract_columns = node.columns.values() | list -%}
        {%- set found = segment_warehouse.locate_raw_table(table_name, data_dir, input_schema) -%}

        {%- if found is none -%}
            {%- if node.meta.get('required', false) -%}
                {%- set looked_in = [] -%}
                {%- if data_dir -%}
                    {%- do looked_in.append(data_dir ~ '/' ~ table_name ~ '.{parquet,csv,csv.gz}') -%}
                {%- endif -%}
                {%- if input_schema -%}
                    {%- do looked_in.append(input_schema ~ '.' ~ table_name) -%}
                {%- endif -%}
                {{ exceptions.raise_compiler_error(
                    "Required raw table '" ~ table_name ~ "' was not found. Looked for: "
                    ~ (looked_in | join(', ') or 'nothing (set var raw_data_dir or raw_input_schema)')
                ) }}
            {%- endif -%}
            {%- set select_list = [] -%}
            {%- for column in contract_columns -%}
                {%- do select_list.append('cast(null as ' ~ dbt.type_string() ~ ') as ' ~ column.name) -%}
            {%- endfor -%}
            {%- do select_list.append("cast('absent' as " ~ dbt.type_string() ~ ") as _raw_location") -%}
            {%- do select_list.append("cast(null as " ~ dbt.type_bigint() ~ ") as _raw_row_number") -%}
            {%- set view_sql = 'select ' ~ select_list | join(', ') ~ ' where 1 = 0' -%}
            {%- do log('raw ' ~ table_name ~ ': absent (optional), empty view', info=true) -%}
        {%- else -%}
            {%- set available = {} -%}
            {%- for column_name in found.columns -%}
                {%- do available.update({column_name | trim | lower: column_name}) -%}
            {%- endfor -%}
            {%- set missing_required = [] -%}
            {%- set select_list = [] -%}
            {%- for column in contract_columns -%}
                {%- if column.name in available -%}
                    {%- do select_list.append(
                        'cast(' ~ adapter.quote(available[column.name]) ~ ' as ' ~ dbt.type_string() ~ ') as ' ~ column.name
                    ) -%}
                {%- elif column.meta.get('required', false) -%}
                    {%- do missing_required.append(column.name) -%}
                {%- else -%}
                    {%- do select_list.append('cast(null as ' ~ dbt.type_string() ~ ') as ' ~ column.name) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- if missing_required | length > 0 -%}
                {{ exceptions.raise_compiler_error(
                    "Raw table '" ~ table_name ~ "' read from " ~ found.location
                    ~ " is missing required column(s): " ~ missing_required | join(', ')
                    ~ ". Columns found: " ~ (found.columns | join(', '))
                ) }}
            {%- endif -%}
            {%- do select_list.append("cast('" ~ found.location ~ "' as " ~ dbt.type_string() ~ ") as _raw_location") -%}
            {%- do select_list.append(segment_warehouse.raw_row_number() ~ ' as _raw_row_number') -%}
            {%- set view_sql = 'select ' ~ select_list | join(', ') ~ ' from ' ~ found.reader -%}
            {%- do log('raw ' ~ table_name ~ ': ' ~ found.location, info=true) -%}
        {%- endif -%}

        {%- set view_relation = api.Relation.create(
            database=target.database, schema=raw_schema, identifier=table_name, type='view'
        ) -%}
        {%- do run_query('create or replace view ' ~ view_relation ~ ' as ' ~ view_sql) -%}
        {%- if found is not none and found.get('rejects_table') -%}
            {%- do segment_warehouse.record_rejected_lines(raw_schema, node.source_name, table_name, found) -%}
        {%- endif -%}
    {%- endfor -%}

    {{ return('select 1 as raw_sources_loaded') }}
{% endmacro %}


{#- Returns none, or a dict with the reader SQL, a location for messages and the
    column names of the raw table. -#}
{% macro locate_raw_table(table_name, data_dir, input_schema) %}
    {%- if data_dir -%}
        {%- set found_file = segment_warehouse.find_raw_file(table_name, data_dir) -%}
        {%- if found_file is not none -%}
            {{ return(found_file) }}
        {%- endif -%}
    {%- endif -%}
    {%- if input_schema -%}
        {%- set found_table = segment_warehouse.find_input_table(table_name, input_schema) -%}
        {%- if found_table is not none -%}
            {{ return(found_table) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{% endmacro %}


{% macro find_input_table(table_name, input_schema) %}
    {{ return(adapter.dispatch('find_input_table', 'segment_warehouse')(table_name, input_schema)) }}
{% endmacro %}

{% macro default__find_input_table(table_name, input_schema) %}
    {%- set relation = adapter.get_relation(
        database=target.database, schema=input_schema, identifier=table_name
    ) -%}
    {%- if relation is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set column_names = [] -%}
    {%- for column in adapter.get_columns_in_relation(relation) -%}
        {%- do column_names.append(column.name) -%}
    {%- endfor -%}
    {{ return({'reader': relation | string, 'location': relation | string, 'columns': column_names}) }}
{% endmacro %}

{#- Looked up with plain queries: dbt's relation cache would open a transaction that
    is rolled back at the end of the hook, taking the new views with it. -#}
{% macro duckdb__find_input_table(table_name, input_schema) %}
    {%- set found = run_query(
        "select table_name from information_schema.tables where table_schema = '"
        ~ input_schema ~ "' and table_name = '" ~ table_name ~ "' and table_catalog = current_database()"
    ) -%}
    {%- if found.rows | length == 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set relation = api.Relation.create(
        database=target.database, schema=input_schema, identifier=table_name
    ) -%}
    {%- set described = run_query('describe select * from ' ~ relation) -%}
    {{ return({'reader': relation | string, 'location': relation | string, 'columns': described.columns[0].values() | list}) }}
{% endmacro %}


{% macro find_raw_file(table_name, data_dir) %}
    {{ return(adapter.dispatch('find_raw_file', 'segment_warehouse')(table_name, data_dir)) }}
{% endmacro %}

{#- Reading files needs an engine that can query them in place; elsewhere load the
    raw tables into var('raw_input_schema') instead. -#}
{% macro default__find_raw_file(table_name, data_dir) %}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__find_raw_file(table_name, data_dir) %}
    {%- set directory = data_dir | replace("'", "''") | trim -%}
    {%- set directory = directory[:-1] if directory.endswith('/') else directory -%}
    {%- set candidates = [
        ('parquet', directory ~ '/' ~ table_name ~ '.parquet'),
        ('csv', directory ~ '/' ~ table_name ~ '.csv'),
        ('csv', directory ~ '/' ~ table_name ~ '.csv.gz'),
    ] -%}
    {%- set present = [] -%}
    {%- for file_format, path in candidates -%}
        {%- set matches = run_query("select count(*) from glob('" ~ path ~ "')").columns[0].values()[0] -%}
        {%- if matches > 0 -%}
            {%- do present.append((file_format, path)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        {{ return(none) }}
    {%- elif present | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "Raw table '" ~ table_name ~ "' has more than one file in " ~ data_dir ~ ": "
            ~ (present | map(attribute=1) | join(', ')) ~ ". Keep exactly one."
        ) }}
    {%- endif -%}
    {%- set file_format, path = present[0] -%}
    {%- if file_format == 'parquet' -%}
        {%- set reader = "read_parquet('" ~ path ~ "')" -%}
    {%- else -%}
        {%- set rejects_table = 'segment_warehouse_rejects_' ~ table_name -%}
        {%- set reader = "read_csv('" ~ path ~ "', header = true, all_varchar = true, store_rejects = true, "
            ~ "rejects_table = '" ~ rejects_table ~ "', rejects_scan = '" ~ rejects_table ~ "_scans')" -%}
    {%- endif -%}
    {%- set described = run_query('describe select * from ' ~ reader) -%}
    {%- set column_names = described.columns[0].values() | list -%}
    {{ return({
        'reader': reader,
        'location': path,
        'columns': column_names,
        'rejects_table': rejects_table if file_format == 'csv' else none,
    }) }}
{% endmacro %}


{#- Position of each row in its file or table, in the order the engine stores it. -#}
{% macro raw_row_number() %}
    {{ return(adapter.dispatch('raw_row_number', 'segment_warehouse')()) }}
{% endmacro %}

{#- DuckDB reads a file or table in storage order (insertion order is preserved), so
    this numbers rows as they appear in the file. -#}
{% macro default__raw_row_number() %}
    {{ return('row_number() over ()') }}
{% endmacro %}

{% macro spark__raw_row_number() %}
    {{ return('monotonically_increasing_id()') }}
{% endmacro %}


{#- raw._rejected_lines: lines of raw CSV files that could not be split into the
    file's columns (too many or too few fields, broken quoting). They are skipped by the
    raw views and quarantined as malformed_line, so nothing is lost. -#}
{% macro create_rejected_lines_table(raw_schema) %}
    {%- set relation = api.Relation.create(
        database=target.database, schema=raw_schema, identifier='_rejected_lines'
    ) -%}
    {%- do run_query(
        'create or replace table ' ~ relation ~ ' as select'
        ~ ' cast(null as ' ~ dbt.type_string() ~ ') as source_name,'
        ~ ' cast(null as ' ~ dbt.type_string() ~ ') as table_name,'
        ~ ' cast(null as ' ~ dbt.type_string() ~ ') as raw_location,'
        ~ ' cast(null as ' ~ dbt.type_bigint() ~ ') as line_number,'
        ~ ' cast(null as ' ~ dbt.type_string() ~ ') as raw_line,'
        ~ ' cast(null as ' ~ dbt.type_string() ~ ') as error_message'
        ~ ' where 1 = 0'
    ) -%}
{% endmacro %}

{#- Reads a CSV file once in full so DuckDB records the lines it rejects, and copies
    them, one row per line, into raw._rejected_lines. -#}
{% macro record_rejected_lines(raw_schema, source_name, table_name, found) %}
    {%- set rejects = found.rejects_table -%}
    {%- do run_query('drop table if exists ' ~ rejects) -%}
    {%- do run_query('drop table if exists ' ~ rejects ~ '_scans') -%}
    {%- do run_query('select count(*) from ' ~ found.reader) -%}
    {%- do run_query(
        'insert into ' ~ raw_schema ~ '._rejected_lines '
        ~ "select '" ~ source_name ~ "', '" ~ table_name ~ "', '" ~ found.location ~ "', line, min(csv_line), "
        ~ "string_agg(distinct error_type || ': ' || error_message, '; ' order by error_type || ': ' || error_message) "
        ~ 'from ' ~ rejects ~ ' group by line'
    ) -%}
    {%- set counted = run_query(
        'select count(*) from ' ~ raw_schema ~ "._rejected_lines where table_name = '" ~ table_name ~ "'"
    ).columns[0].values()[0] -%}
    {%- if counted > 0 -%}
        {%- do log('raw ' ~ table_name ~ ': ' ~ counted ~ ' malformed line(s) quarantined', info=true) -%}
    {%- endif -%}
    {%- do run_query('drop table if exists ' ~ rejects) -%}
    {%- do run_query('drop table if exists ' ~ rejects ~ '_scans') -%}
{% endmacro %}
