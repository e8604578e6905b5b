{#- A table of a global statistic (association rules, a model fit) that is built again
    only when what it is computed from changed, and otherwise held as it is.

    The table's key is a digest of:
      - the model's compiled SQL (its code, the macros it expands and the vars it reads);
      - the `inputs_fingerprint` column of the relation named by config `held_inputs`, a
        small model that fingerprints the rows the statistic is computed from (hash_sum);
      - the keys of the held tables it reads, so a change upstream reaches it.
    The key of every held table of a schema is recorded in that schema's held_table_keys
    (model_name, fit_key). A run whose key equals the recorded one, on an existing table,
    does not rebuild it and says so in the log; any other run builds it like a table
    (into a scratch table, renamed over the old one) and records the new key. A full
    refresh always builds. Since the key covers everything the table is computed from,
    holding it gives the rows a rebuild would give.

    On Spark the held models are plain tables (held_materialization). -#}
{% materialization held_table, default %}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set building_relation = this.incorporate(path={'identifier': this.identifier ~ '__held_build'}, type='table') -%}
    {%- set register = held_table_register(this.database, this.schema) -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- set fit_key = held_table_fit_key(sql) -%}
    {%- set stored_key = held_table_stored_key(register, this.identifier) -%}
    {%- set is_held = (
        existing_relation is not none
        and existing_relation.is_table
        and not should_full_refresh()
        and stored_key == fit_key
    ) -%}

    {%- if is_held -%}
        {{ log('Held ' ~ this ~ ': what it is computed from is unchanged since it was built (key ' ~ fit_key ~ ')', info=True) }}
        {%- call statement('main') -%}
            select count(*) as held_row_count from {{ target_relation }}
        {%- endcall -%}
    {%- else -%}
        {%- do adapter.drop_relation(building_relation) -%}
        {%- call statement('main') -%}
            {{ get_create_table_as_sql(False, building_relation, sql) }}
        {%- endcall -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- do adapter.rename_relation(building_relation, target_relation) -%}
        {%- do persist_docs(target_relation, model) -%}
        {%- do run_query(held_table_forget_key_sql(register, this.identifier)) -%}
        {%- do run_query(held_table_record_key_sql(register, this.identifier, fit_key)) -%}
    {%- endif -%}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{#- held_table, except on Spark, where the held models are tables rebuilt on every run
    (its table formats here have no cheap way to keep the register consistent). -#}
{% macro held_materialization() -%}
    {{ return(adapter.dispatch('held_materialization', 'segment_warehouse')()) }}
{%- endmacro %}

{% macro default__held_materialization() -%}
    {{ return('held_table') }}
{%- endmacro %}

{% macro spark__held_materialization() -%}
    {{ return('table') }}
{%- endmacro %}


{% macro held_table_register(database, schema) -%}
    {{ return(api.Relation.create(database=database, schema=schema, identifier='held_table_keys', type='table')) }}
{%- endmacro %}


{% macro held_table_create_register_sql(register) -%}
    create table if not exists {{ register }} (
        model_name {{ dbt.type_string() }},
        fit_key {{ dbt.type_string() }}
    )
{%- endmacro %}


{% macro held_table_forget_key_sql(register, model_name) -%}
    delete from {{ register }} where model_name = '{{ model_name }}'
{%- endmacro %}


{% macro held_table_record_key_sql(register, model_name, fit_key) -%}
    insert into {{ register }} (model_name, fit_key) values ('{{ model_name }}', '{{ fit_key }}')
{%- endmacro %}


{#- The recorded key of a held table, none when there is none. Creates the register if
    it is missing (dbt's relation cache does not see a register created during the run). -#}
{% macro held_table_stored_key(register, model_name) -%}
    {%- do run_query(held_table_create_register_sql(register)) -%}
    {%- set keys = run_query("select fit_key from " ~ register ~ " where model_name = '" ~ model_name ~ "'").columns[0].values() -%}
    {{ return(keys[0] if keys | length == 1 else none) }}
{%- endmacro %}


{#- The key this run would record: a digest of the compiled SQL, the held_inputs
    relation's fingerprints and the recorded keys of the held tables the model reads. -#}
{% macro held_table_fit_key(compiled_sql) -%}
    {%- set parts = [compiled_sql] -%}
    {%- set inputs = config.get('held_inputs') -%}
    {%- if inputs -%}
        {%- set fingerprints = run_query('select inputs_fingerprint from ' ~ ref(inputs) ~ ' order by 1').columns[0].values() -%}
        {%- if fingerprints | length == 0 -%}
            {%- do exceptions.raise_compiler_error('held_table ' ~ this ~ ': ' ~ inputs ~ ' (config held_inputs) has no inputs_fingerprint row') -%}
        {%- endif -%}
        {%- do parts.append(fingerprints | join(',')) -%}
    {%- endif -%}
    {%- for node_id in model.depends_on.nodes | sort -%}
        {%- set parent = graph.nodes.get(node_id) -%}
        {%- if parent and parent.config.materialized == 'held_table' -%}
            {%- set parent_register = held_table_register(parent.database, parent.schema) -%}
            {%- do parts.append(node_id ~ '=' ~ (held_table_stored_key(parent_register, parent.alias) or 'none')) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}
