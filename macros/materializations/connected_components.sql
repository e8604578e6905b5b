{#- Connected components of an undirected graph, by label propagation in SQL.

    The model's SQL selects the graph's edges as two columns, node_key and
    neighbour_key (text; direction, duplicates and self-edges do not matter). The
    materialization builds a table with one row per node that has at least one edge:
    node_key, component_key (the smallest node_key of its component) and
    iteration_count (the passes it took; the same on every row).

    Each pass gives every node the smallest label among itself and its neighbours, then
    lets it jump to its label's own label (pointer jumping), so a path of n nodes
    settles in about log2(n) passes rather than n. Passes repeat until no label changes.
    A run that reaches config max_iterations without settling stops with an error
    naming the model, never publishing half-propagated components.

    Works on any adapter: every step is a plain create-table-as in the model's schema,
    on scratch tables named after the model and dropped at the end. -#}
{% materialization connected_components, default %}
    {%- set max_iterations = config.require('max_iterations') | int -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set scratch = {} -%}
    {%- for name in ['edges', 'labels_0', 'labels_1', 'built'] -%}
        {%- do scratch.update({name: this.incorporate(path={'identifier': this.identifier ~ '__cc_' ~ name}, type='table')}) -%}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- for relation in scratch.values() %}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor %}

    {%- call statement('connected_components_edges') -%}
        {{ get_create_table_as_sql(False, scratch['edges'], connected_components_edges_sql(sql)) }}
    {%- endcall -%}
    {%- call statement('connected_components_start') -%}
        {{ get_create_table_as_sql(False, scratch['labels_0'], connected_components_start_sql(scratch['edges'])) }}
    {%- endcall -%}

    {%- set state = {'current': 'labels_0', 'next': 'labels_1', 'passes': 0, 'settled': false} -%}
    {%- for pass_number in range(1, max_iterations + 1) -%}
        {%- do adapter.drop_relation(scratch[state['next']]) -%}
        {%- call statement('connected_components_pass') -%}
            {{ get_create_table_as_sql(False, scratch[state['next']], connected_components_pass_sql(scratch['edges'], scratch[state['current']])) }}
        {%- endcall -%}
        {%- set changed = run_query(connected_components_changed_sql(scratch[state['current']], scratch[state['next']])).columns[0].values()[0] -%}
        {%- do state.update({'current': state['next'], 'next': state['current'], 'passes': pass_number}) -%}
        {%- if changed | int == 0 -%}
            {%- do state.update({'settled': true}) -%}
            {%- break -%}
        {%- endif -%}
    {%- endfor -%}

    {%- if not state['settled'] -%}
        {%- for relation in scratch.values() %}
            {%- do adapter.drop_relation(relation) -%}
        {%- endfor %}
        {%- do exceptions.raise_compiler_error(
            'Connected components of ' ~ this ~ ' did not settle within ' ~ max_iterations
            ~ ' label-propagation passes (config max_iterations). Raise the limit (for identity'
            ~ ' resolution: var identity.max_iterations) or look for an unexpectedly large group.'
        ) -%}
    {%- endif -%}

    {%- call statement('main') -%}
        {{ get_create_table_as_sql(False, scratch['built'], connected_components_final_sql(scratch[state['current']], state['passes'])) }}
    {%- endcall -%}

    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(scratch['built'], target_relation) -%}
    {%- for name in ['edges', 'labels_0', 'labels_1'] %}
        {%- do adapter.drop_relation(scratch[name]) -%}
    {%- endfor %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro connected_components_edges_sql(edges_sql) -%}
    {#- Both directions of every edge between two different nodes, once each. -#}
    with given as (
        {{ edges_sql }}
    )

    select node_key, neighbour_key
    from given
    where node_key <> neighbour_key
    union
    select neighbour_key as node_key, node_key as neighbour_key
    from given
    where node_key <> neighbour_key
{%- endmacro %}


{% macro connected_components_start_sql(edges) -%}
    select
        node_key,
        case when min(neighbour_key) < node_key then min(neighbour_key) else node_key end as label
    from {{ edges }}
    group by node_key
{%- endmacro %}


{% macro connected_components_pass_sql(edges, labels) -%}
    {#- One pass: the smallest label among a node and its neighbours, then a jump to that
        label's own label. Labels only ever decrease and always name a node of the same
        component, so a pass that changes nothing has found the components. -#}
    with propagated as (
        select
            labels.node_key,
            min(case when neighbour_labels.label < labels.label then neighbour_labels.label else labels.label end)
                as label
        from {{ labels }} as labels
        inner join {{ edges }} as edges
            on labels.node_key = edges.node_key
        inner join {{ labels }} as neighbour_labels
            on edges.neighbour_key = neighbour_labels.node_key
        group by labels.node_key
    )

    select
        propagated.node_key,
        case
            when label_labels.label < propagated.label then label_labels.label
            else propagated.label
        end as label
    from propagated
    inner join propagated as label_labels
        on propagated.label = label_labels.node_key
{%- endmacro %}


{% macro connected_components_changed_sql(before, after) -%}
    select count(*) as changed_count
    from {{ after }} as after_pass
    inner join {{ before }} as before_pass
        on after_pass.node_key = before_pass.node_key
    where after_pass.label <> before_pass.label
{%- endmacro %}


{% macro connected_components_final_sql(labels, passes) -%}
    select
        node_key,
        label as component_key,
        cast({{ passes }} as {{ dbt.type_int() }}) as iteration_count
    from {{ labels }}
{%- endmacro %}
