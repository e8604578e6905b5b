{#-
    Publishes every source table of this project as a view in var('raw.schema') whose
    columns are exactly the contract's columns (models/staging/*/_*__sources.yml), all
    as text, plus _raw_location (where the rows were read from) and _raw_row_number
    (1 for the first data row of the file or table, in storage order).

    For each table, in order:
      1. a file <raw.data_dir>/<table>.parquet, .csv or .csv.gz (DuckDB only);
      2. a table or view <raw.input_schema>.<table>;
      3. nothing: a required table (meta.required) fails the run with a message naming
         what was looked for; an optional table becomes an empty view.
    A found table missing a required column fails the run, naming the file and column.
    Optional columns that are absent become null; extra columns are ignored. Column names
    are matched case-insensitively, after the table's header mapping (var
    raw_read_options, `columns`: the file's name -> the contract's).

    CSV files are read with the dialect configured in var raw.read_options (delimiter,
    quote, escape, encoding, max_line_bytes), never guessed: a guess made on a damaged file
    reads every row wrongly. Lines the reader cannot split are kept in raw._rejected_lines
    and quarantined, and the rest of the file is read.
-#}
{% macro load_raw_sources() %}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}

    {%- set raw_schema = var('raw.schema') -%}
    {%- set data_dir = var('raw.data_dir', none) -%}
    {%- set input_schema = var('raw.input_schema', none) -%}
    {%- set schema_relation = api.Relation.create(database=target.database, schema=raw_schema) -%}
    {%- do adapter.create_schema(schema_relation) -%}

    {%- set contract_sources = [] -%}
    {%- for node in graph.sources.values() if node.package_name == project_name -%}
        {%- if node.source_meta.get('raw_contract', false) -%}
            {%- do contract_sources.append(node) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- do segment_warehouse.create_rejected_lines_table(raw_schema) -%}
    {%- do segment_warehouse.create_loaded_tables_table(raw_schema) -%}
    {%- do segment_warehouse.record_contract_columns(raw_schema, contract_sources) -%}
    {%- do segment_warehouse.check_read_option_tables(contract_sources | map(attribute='name') | list) -%}
    {%- do segment_warehouse.check_vars() -%}

    {%- for node in contract_sources | sort(attribute='name') -%}
        {%- set table_name = node.name -%}
        {%- set contract_columns = node.columns.values() | list -%}
        {%- set read_options = segment_warehouse.raw_read_options(table_name) -%}
        {%- set found = segment_warehouse.locate_raw_table(table_name, data_dir, input_schema, read_options) -%}

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
                    ~ (looked_in | join(', ') or 'nothing (set var raw.data_dir or raw_input_schema)')
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
            {%- set available = segment_warehouse.contract_column_sources(
                found, contract_columns | map(attribute='name') | list, read_options.columns, table_name
            ) -%}
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
                    ~ ('. The header has one column; is the delimiter ' ~ "'" ~ read_options.delimiter ~ "'"
                        ~ ' right? (var raw.read_options)' if found.columns | length == 1 and found.get('rejects_table') else '')
                ) }}
            {%- endif -%}
            {%- for column in contract_columns if column.name in available -%}
                {%- set found_type = (found.get('types') or {}).get(available[column.name], '') | upper -%}
                {%- if found_type.startswith('STRUCT') or found_type.startswith('MAP') or found_type.startswith('UNION')
                    or found_type.endswith(']') -%}
                    {{ exceptions.raise_compiler_error(
                        "Raw table '" ~ table_name ~ "' read from " ~ found.location ~ ": column "
                        ~ available[column.name] ~ " holds nested values (" ~ found_type ~ "); the contract expects "
                        ~ column.meta.get('type', 'text') ~ ". Flatten it to one value per row."
                    ) }}
                {%- endif -%}
            {%- endfor -%}
            {%- do select_list.append("cast('" ~ found.location | replace("'", "''") ~ "' as " ~ dbt.type_string() ~ ") as _raw_location") -%}
            {%- do select_list.append(segment_warehouse.raw_row_number() ~ ' as _raw_row_number') -%}
            {%- set view_sql = 'select ' ~ select_list | join(', ') ~ ' from ' ~ found.reader -%}
            {%- do log('raw ' ~ table_name ~ ': ' ~ found.location, info=true) -%}
        {%- endif -%}

        {%- set view_relation = api.Relation.create(
            database=target.database, schema=raw_schema, identifier=table_name, type='view'
        ) -%}
        {%- do run_query('create or replace view ' ~ view_relation ~ ' as ' ~ view_sql) -%}
        {%- if found is not none and found.get('rejects_table') -%}
            {#- the scan that records the rejected lines counts the readable rows too -#}
            {%- set readable_rows = segment_warehouse.record_rejected_lines(
                raw_schema, node.source_name, table_name, found, read_options
            ) -%}
        {%- else -%}
            {%- set readable_rows = run_query('select count(*) from ' ~ view_relation).columns[0].values()[0] -%}
        {%- endif -%}
        {%- do run_query(
            'insert into ' ~ raw_schema ~ "._loaded_tables values ('" ~ node.source_name ~ "', '" ~ table_name
            ~ "', '" ~ (found.location if found is not none else 'absent') | replace("'", "''") ~ "', "
            ~ readable_rows ~ ")"
        ) -%}
    {%- endfor -%}

    {{ return('select 1 as raw_sources_loaded') }}
{% endmacro %}


{#- Returns none, or a dict with the reader SQL, a location for messages and the
    column names of the raw table. -#}
{% macro locate_raw_table(table_name, data_dir, input_schema, read_options) %}
    {%- if data_dir -%}
        {%- set found_file = segment_warehouse.find_raw_file(table_name, data_dir, read_options) -%}
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
    {%- set column_names = described.columns[0].values() | list -%}
    {{ return({
        'reader': relation | string,
        'location': relation | string,
        'columns': column_names,
        'types': dict(zip(column_names, described.columns[1].values() | list)),
    }) }}
{% endmacro %}


{% macro find_raw_file(table_name, data_dir, read_options) %}
    {{ return(adapter.dispatch('find_raw_file', 'segment_warehouse')(table_name, data_dir, read_options)) }}
{% endmacro %}

{#- Reading files needs an engine that can query them in place; elsewhere load the
    raw tables into var('raw.input_schema') instead. -#}
{% macro default__find_raw_file(table_name, data_dir, read_options) %}
    {{ return(none) }}
{% endmacro %}

{% macro duckdb__find_raw_file(table_name, data_dir, read_options) %}
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
        {%- set described = run_query('describe select * from ' ~ reader) -%}
        {%- set column_names = described.columns[0].values() | list -%}
        {%- set column_types = described.columns[1].values() | list -%}
        {{ return({
            'reader': reader,
            'location': path,
            'columns': column_names,
            'types': dict(zip(column_names, column_types)),
            'rejects_table': none,
        }) }}
    {%- endif -%}
    {{ return(segment_warehouse.duckdb__find_csv_file(table_name, path, read_options)) }}
{% endmacro %}


{#- A CSV file read with the configured dialect: the header is read by
    segment_warehouse_prepare_csv (segment_warehouse/duckdb_plugin.py), which also
    points the reader at a copy with LF endings when the file mixes CRLF and LF. -#}
{% macro duckdb__find_csv_file(table_name, path, read_options) %}
    {%- set dialect = {
        'delimiter': read_options.delimiter,
        'quote': read_options.quote,
        'encoding': read_options.encoding,
    } -%}
    {#- a copy with normalised line endings lives beside the warehouse file -#}
    {%- set database_path = target.get('path') or ':memory:' -%}
    {%- set cache_dir = (database_path.rsplit('/', 1)[0] if '/' in database_path else '.') ~ '/raw_normalised'
        if database_path != ':memory:' else 'target/raw_normalised' -%}
    {%- set prepared = fromjson(run_query(
        "select segment_warehouse_prepare_csv('" ~ path ~ "', '" ~ (tojson(dialect) | replace("'", "''"))
        ~ "', '" ~ cache_dir | replace("'", "''") ~ "')"
    ).columns[0].values()[0]) -%}
    {%- if prepared.get('error') -%}
        {{ exceptions.raise_compiler_error("Raw table '" ~ table_name ~ "': " ~ prepared.error) }}
    {%- endif -%}
    {%- if prepared.normalised -%}
        {%- do log('raw ' ~ table_name ~ ': ' ~ path ~ ' mixes CRLF and LF line endings; read from a copy with LF endings, ' ~ prepared.path, info=true) -%}
    {%- endif -%}
    {%- set column_types = [] -%}
    {%- for column_name in prepared.columns -%}
        {%- do column_types.append("'" ~ column_name | replace("'", "''") ~ "': 'VARCHAR'") -%}
    {%- endfor -%}
    {%- set rejects_table = 'segment_warehouse_rejects_' ~ table_name -%}
    {%- set reader = "read_csv('" ~ prepared.path | replace("'", "''") ~ "', header = true, auto_detect = false"
        ~ ", columns = {" ~ column_types | join(', ') ~ "}"
        ~ ", delim = '" ~ read_options.delimiter | replace("'", "''") ~ "'"
        ~ ", quote = '" ~ (read_options.quote or '') | replace("'", "''") ~ "'"
        ~ ", escape = '" ~ (read_options.escape or '') | replace("'", "''") ~ "'"
        ~ ", encoding = '" ~ read_options.encoding ~ "'"
        ~ ", max_line_size = " ~ read_options.max_line_bytes
        ~ ", store_rejects = true, rejects_table = '" ~ rejects_table ~ "', rejects_scan = '" ~ rejects_table ~ "_scans')" -%}
    {{ return({
        'reader': reader,
        'location': path,
        'columns': prepared.columns,
        'types': {},
        'rejects_table': rejects_table,
    }) }}
{% endmacro %}


{#- Contract column name -> the raw table's column it is read from. The table's header
    mapping (read option `columns`, the file's name -> the contract's) applies first;
    other columns match the contract's names case-insensitively, ignoring spaces around. -#}
{% macro contract_column_sources(found, contract_names, header_mapping, table_name) %}
    {%- set mapping = {} -%}
    {%- for file_name, contract_name in (header_mapping or {}).items() -%}
        {%- if contract_name not in contract_names -%}
            {{ exceptions.raise_compiler_error(
                "var raw.read_options.tables." ~ table_name ~ ".columns maps '" ~ file_name ~ "' to '"
                ~ contract_name ~ "', which is not a column of the raw contract; its columns: "
                ~ contract_names | join(', ')
            ) }}
        {%- endif -%}
        {%- do mapping.update({file_name | trim | lower: contract_name}) -%}
    {%- endfor -%}
    {%- set available = {} -%}
    {%- set mapped = [] -%}
    {%- for column_name in found.columns -%}
        {%- set key = column_name | trim | lower -%}
        {%- set contract_name = mapping.get(key, key) -%}
        {%- if key in mapping -%}
            {%- do mapped.append(key) -%}
        {%- endif -%}
        {%- if contract_name in available -%}
            {{ exceptions.raise_compiler_error(
                "Raw table '" ~ table_name ~ "' read from " ~ found.location ~ ": both columns "
                ~ available[contract_name] ~ " and " ~ column_name ~ " would be read as " ~ contract_name
            ) }}
        {%- endif -%}
        {%- do available.update({contract_name: column_name}) -%}
    {%- endfor -%}
    {%- for key in mapping if key not in mapped -%}
        {{ exceptions.raise_compiler_error(
            "var raw.read_options.tables." ~ table_name ~ ".columns maps '" ~ key ~ "', which is not a column of "
            ~ found.location ~ "; columns found: " ~ found.columns | join(', ')
        ) }}
    {%- endfor -%}
    {{ return(available) }}
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


{#- raw._rejected_lines: lines of raw CSV files the reader could not read as a row: not
    in the file's encoding (invalid_encoding), longer than max_line_bytes (line_too_long),
    or not splittable into the header's columns - too many or too few fields, broken
    quoting (malformed_line). The raw views skip them; quarantined_rows lists them with
    the reason, so nothing is lost. -#}
{% macro create_rejected_lines_table(raw_schema) %}
    {%- do segment_warehouse.create_empty_table(raw_schema, '_rejected_lines', [
        ('source_name', dbt.type_string()),
        ('table_name', dbt.type_string()),
        ('raw_location', dbt.type_string()),
        ('line_number', dbt.type_bigint()),
        ('raw_line', dbt.type_string()),
        ('quarantine_reason', dbt.type_string()),
        ('error_message', dbt.type_string())
    ]) -%}
{% endmacro %}

{#- raw._loaded_tables: per raw table, where it was read from this run (a file, an input
    table, or 'absent') and how many rows its view reads, counted once here, so the gates
    need not read every file again and can name a table without rows. -#}
{% macro create_loaded_tables_table(raw_schema) %}
    {%- do segment_warehouse.create_empty_table(raw_schema, '_loaded_tables', [
        ('source_name', dbt.type_string()),
        ('table_name', dbt.type_string()),
        ('raw_location', dbt.type_string()),
        ('readable_rows', dbt.type_bigint())
    ]) -%}
{% endmacro %}

{#- (Re)creates `<raw_schema>.<identifier>` empty, with `columns` (name, type) pairs. -#}
{% macro create_empty_table(raw_schema, identifier, columns) %}
    {%- set relation = api.Relation.create(
        database=target.database, schema=raw_schema, identifier=identifier
    ) -%}
    {%- set casts = [] -%}
    {%- for name, data_type in columns -%}
        {%- do casts.append('cast(null as ' ~ data_type ~ ') as ' ~ name) -%}
    {%- endfor -%}
    {%- do run_query(
        'create or replace table ' ~ relation ~ ' as select ' ~ casts | join(', ') ~ ' where 1 = 0'
    ) -%}
{% endmacro %}

{#- Reads a CSV file once in full so DuckDB records the lines it rejects, and copies
    them, one row per line, into raw._rejected_lines with a reason and an explanation.
    Returns the number of rows the file's reader reads. -#}
{% macro record_rejected_lines(raw_schema, source_name, table_name, found, read_options) %}
    {%- set rejects = found.rejects_table -%}
    {%- do run_query('drop table if exists ' ~ rejects) -%}
    {%- do run_query('drop table if exists ' ~ rejects ~ '_scans') -%}
    {%- set readable_rows = run_query('select count(*) from ' ~ found.reader).columns[0].values()[0] -%}
    {%- set header_columns = found.columns | length -%}
    {%- do run_query(
        'insert into ' ~ raw_schema ~ '._rejected_lines '
        ~ "select '" ~ source_name ~ "', '" ~ table_name ~ "', '" ~ found.location | replace("'", "''") ~ "', line, "
        ~ "left(min(csv_line), 10000), "
        ~ "case when bool_or(error_type = 'INVALID ENCODING') then 'invalid_encoding' "
        ~ "when bool_or(error_type = 'LINE SIZE OVER MAXIMUM') then 'line_too_long' "
        ~ "else 'malformed_line' end, "
        ~ "case when bool_or(error_type = 'INVALID ENCODING') "
        ~ "then 'line " ~ "' || line || ' is not valid " ~ read_options.encoding ~ " (set the encoding in var raw.read_options)' "
        ~ "when bool_or(error_type = 'LINE SIZE OVER MAXIMUM') "
        ~ "then 'line ' || line || ' is longer than max_line_bytes (" ~ read_options.max_line_bytes ~ ")' "
        ~ "when bool_or(error_type = 'UNQUOTED VALUE') "
        ~ "then 'line ' || line || ' has a quote that is not closed, or text after a closing quote' "
        ~ "when bool_or(error_type in ('TOO MANY COLUMNS', 'MISSING COLUMNS')) "
        ~ "then 'line ' || line || ' does not have the header''s " ~ header_columns ~ " fields' "
        ~ "|| ' (an unquoted delimiter " ~ read_options.delimiter | replace("'", "''") ~ " inside a value, such as a decimal comma?)' "
        ~ "else 'line ' || line || ' could not be read' end "
        ~ "|| ': ' || string_agg(distinct error_type || ': ' || error_message, '; ' order by error_type || ': ' || error_message) "
        ~ 'from ' ~ rejects ~ ' group by line'
    ) -%}
    {%- set counted = run_query(
        'select count(*) from ' ~ raw_schema ~ "._rejected_lines where table_name = '" ~ table_name ~ "'"
    ).columns[0].values()[0] -%}
    {%- if counted > 0 -%}
        {%- do log('raw ' ~ table_name ~ ': ' ~ counted ~ ' unreadable line(s) quarantined', info=true) -%}
    {%- endif -%}
    {%- do run_query('drop table if exists ' ~ rejects) -%}
    {%- do run_query('drop table if exists ' ~ rejects ~ '_scans') -%}
    {{ return(readable_rows) }}
{% endmacro %}
