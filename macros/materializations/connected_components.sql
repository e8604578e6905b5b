{#- Connected components of an undirected graph, by label propagation in SQL.

    The model's SQL selects the graph's edges as two columns, node_key and
    neighbour_key (text; direction, duplicates and self-edges do not matter). The
    materialization builds a table with one row per node that has at least one edge:
    node_key, component_key (the smallest node_key of its component) and
    iteration_count (the passes it took; the same on every row).

    Each pass rewrites the edges twice (the large-star and small-star steps of Kiveris
    et al., "Connected Components in MapReduce and Beyond", 2014): every node hands its
    larger neighbours, then its smaller ones, over to the smallest label it sees. Edges
    only ever move to smaller labels within a component, so when a pass changes no edge
    every component is a star around its smallest node, and each node's label is that
    node. A path of n nodes settles in a number of passes that grows with log n, not n.
    Passes repeat until nothing changes; a run that reaches config max_iterations
    without settling stops with an error naming the model, and publishes nothing.

    Works on any adapter: every step is a plain create-table-as in the model's schema,
    on scratch tables named after the model and dropped at the end. -#}
{% materialization connected_components, default %}
    {%- set max_iterations = config.require('max_iterations') | int -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set scratch = {} -%}
    {%- for name in ['edges_0', 'edges_1', 'edges_2', 'built'] -%}
        {%- do scratch.update({name: this.incorporate(path={'identifier': this.identifier ~ '__cc_' ~ name}, type='table')}) -%}
    {%- endfor -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {%- for relation in scratch.values() %}
        {%- do adapter.drop_relation(relation) -%}
    {%- endfor %}

    {%- call statement('connected_components_edges') -%}
        {{ get_create_table_as_sql(False, scratch['edges_0'], connected_components_edges_sql(sql)) }}
    {%- endcall -%}

    {#- edges_0 holds the edges before a pass, edges_1 after its large-star step,
        edges_2 after its small-star step; edges_2 becomes the next pass's edges_0. -#}
    {%- set state = {'passes': 0, 'settled': false} -%}
    {%- for pass_number in range(1, max_iterations + 1) -%}
        {%- do adapter.drop_relation(scratch['edges_1']) -%}
        {%- call statement('connected_components_large_star') -%}
            {{ get_create_table_as_sql(False, scratch['edges_1'], connected_components_large_star_sql(scratch['edges_0'])) }}
        {%- endcall -%}
        {%- do adapter.drop_relation(scratch['edges_2']) -%}
        {%- call statement('connected_components_small_star') -%}
            {{ get_create_table_as_sql(False, scratch['edges_2'], connected_components_small_star_sql(scratch['edges_1'])) }}
        {%- endcall -%}
        {#- Settled only when neither step changed an edge. -#}
        {%- set changed = run_query(
            connected_components_changed_sql(scratch['edges_0'], scratch['edges_1'])
            ~ ' union all '
            ~ connected_components_changed_sql(scratch['edges_1'], scratch['edges_2'])
        ).columns[0].values() | sum -%}
        {%- do state.update({'passes': pass_number}) -%}
        {%- do adapter.drop_relation(scratch['edges_0']) -%}
        {%- do adapter.rename_relation(scratch['edges_2'], scratch['edges_0']) -%}
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
        {{ get_create_table_as_sql(False, scratch['built'], connected_components_final_sql(scratch['edges_0'], state['passes'])) }}
    {%- endcall -%}

    {%- if existing_relation is not none -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {%- do adapter.rename_relation(scratch['built'], target_relation) -%}
    {%- for name in ['edges_0', 'edges_1', 'edges_2'] %}
        {%- do adapter.drop_relation(scratch[name]) -%}
    {%- endfor %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro connected_components_edges_sql(edges_sql) -%}
    {#- Both directions of every edge between two different nodes, once each: the model's
        edges, and the edges each step hands over. -#}
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


{% macro connected_components_large_star_sql(edges) -%}
    {#- Large star: each node hands every larger neighbour over to the smallest of itself
        and its neighbours. -#}
    {%- set handed_sql -%}
        with smallest as (
            select
                node_key,
                case when min(neighbour_key) < node_key then min(neighbour_key) else node_key end as label
            from {{ edges }}
            group by node_key
        )

        select
            edges.neighbour_key as node_key,
            smallest.label as neighbour_key
        from {{ edges }} as edges
        inner join smallest
            on edges.node_key = smallest.node_key
        where edges.neighbour_key > edges.node_key
    {%- endset -%}
    {{ connected_components_edges_sql(handed_sql) }}
{%- endmacro %}


{% macro connected_components_small_star_sql(edges) -%}
    {#- Small star: each node with smaller neighbours hands itself and those neighbours
        over to the smallest of them. Edges to larger neighbours are handed over by those
        neighbours. -#}
    {%- set handed_sql -%}
        with smallest as (
            select
                node_key,
                min(neighbour_key) as label
            from {{ edges }}
            where neighbour_key < node_key
            group by node_key
        )

        select
            edges.neighbour_key as node_key,
            smallest.label as neighbour_key
        from {{ edges }} as edges
        inner join smallest
            on edges.node_key = smallest.node_key
        where edges.neighbour_key < edges.node_key
        union all
        select
            node_key,
            label as neighbour_key
        from smallest
    {%- endset -%}
    {{ connected_components_edges_sql(handed_sql) }}
{%- endmacro %}


{% macro connected_components_changed_sql(before, after) -%}
    {#- Edges in one set and not the other; zero when the pass changed nothing. -#}
    select
        (select count(*) from {{ before }}) + (select count(*) from {{ after }})
        - 2 * (
            select count(*)
            from {{ after }} as after_pass
            inner join {{ before }} as before_pass
                on
                    after_pass.node_key = before_pass.node_key
                    and after_pass.neighbour_key = before_pass.neighbour_key
        ) as changed_count
{%- endmacro %}


{% macro connected_components_final_sql(edges, passes) -%}
    {#- Settled, every component is a star around its smallest node: a node's label is
        the smallest of itself and its neighbours. -#}
    select
        node_key,
        case when min(neighbour_key) < node_key then min(neighbour_key) else node_key end as component_key,
        cast({{ passes }} as {{ dbt.type_int() }}) as iteration_count
    from {{ edges }}
    group by node_key
{%- endmacro %}
