{#- The segment registry, checked and normalised. Each family is declared in its own
    file, models/marts/segments/families/<family>.yml, as an exposure whose
    config.meta.segment_family holds the declaration; this macro collects them from the
    graph at execution time (at parse time, when the graph is not there yet, it returns
    an empty list, so no ref or column depends on it). Families come back in their
    `order`, each with its segments in priority order, rules rendered (params and vars
    filled in, see segment_render_rule) and the fallback last, and the names a column of
    the family may hold (active_names; value segments aside) or must not (retired_names).
    A malformed family stops the run with a message naming its file. -#}
{% macro segment_families() %}
    {%- if not execute or graph is not defined -%}
        {{ return([]) }}
    {%- endif -%}
    {#- dbt unit tests compile against a manifest of their own, without the exposures,
        so they read the same declarations from the macro make registry-docs generates;
        every other run reads the family files from the graph and stops when that macro
        is stale. -#}
    {%- set generated = segment_family_declarations() -%}
    {%- if 'exposures' in graph -%}
        {%- set from_graph = [] -%}
        {%- for exposure in graph.exposures.values() -%}
            {%- set meta = exposure.config.meta if exposure.config and exposure.config.meta else (exposure.meta or {}) -%}
            {%- if meta.get('segment_family') is not none -%}
                {#- the family's description and owner are the exposure's own, shown in dbt docs -#}
                {%- set raw = {'description': exposure.description, 'owner': (exposure.owner or {}).get('name')} -%}
                {%- if meta.segment_family is mapping -%}
                    {%- do raw.update(meta.segment_family) -%}
                {%- endif -%}
                {%- do from_graph.append({'file': exposure.original_file_path, 'raw': raw}) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set declarations = from_graph | sort(attribute='file') -%}
        {%- if tojson(declarations, sort_keys=true) != tojson(generated | sort(attribute='file'), sort_keys=true) -%}
            {{ exceptions.raise_compiler_error(
                "Segment registry: macros/segments/segment_family_declarations.sql does not match the family files (models/marts/segments/families/*.yml); run `make registry-docs`.") }}
        {%- endif -%}
    {%- else -%}
        {%- set declarations = generated | sort(attribute='file') -%}
    {%- endif -%}
    {%- if declarations | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Segment registry: no family files found (models/marts/segments/families/<family>.yml, an exposure with config.meta.segment_family).") }}
    {%- endif -%}
    {%- set all_overrides = var('segments.params', {}) or {} -%}
    {%- if all_overrides is not mapping -%}
        {{ exceptions.raise_compiler_error("Segment registry: var segments.params must map family names to {param: value}.") }}
    {%- endif -%}
    {%- set families = [] -%}
    {%- set seen_families = [] -%}
    {%- set seen_columns = [] -%}
    {%- set seen_orders = [] -%}
    {%- for declaration in declarations -%}
        {%- set raw = declaration.raw -%}
        {%- set where = "Segment registry (" ~ declaration.file ~ "), family '" ~ raw.get('family', '?') ~ "'" -%}
        {%- for key in ['family', 'column', 'description', 'owner', 'segments'] -%}
            {%- if not raw.get(key) -%}
                {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is required.") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', raw.family) or not modules.re.match('^[a-z][a-z0-9_]*$', raw.column) -%}
            {{ exceptions.raise_compiler_error(where ~ ": family and column must be lower-case identifiers.") }}
        {%- endif -%}
        {%- if not declaration.file.endswith('/' ~ raw.family ~ '.yml') -%}
            {{ exceptions.raise_compiler_error(where ~ ": the file must be named " ~ raw.family ~ ".yml.") }}
        {%- endif -%}
        {%- if raw.family in seen_families or raw.column in seen_columns -%}
            {{ exceptions.raise_compiler_error(where ~ ": the family name or column '" ~ raw.column ~ "' is used twice.") }}
        {%- endif -%}
        {%- if raw.get('order') is not number or raw.order in seen_orders -%}
            {{ exceptions.raise_compiler_error(where ~ ": order must be a number, unique among the families (it sets the column order of customer_segments).") }}
        {%- endif -%}
        {%- do seen_families.append(raw.family) -%}
        {%- do seen_columns.append(raw.column) -%}
        {%- do seen_orders.append(raw.order) -%}
        {#- params: the file's defaults, overridden key by key by var segments.params.<family> -#}
        {%- set defaults = raw.get('params') or {} -%}
        {%- if defaults is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": params must map names to default values.") }}
        {%- endif -%}
        {%- set overrides = all_overrides.get(raw.family) or {} -%}
        {%- if overrides is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": var segments.params." ~ raw.family ~ " must map param names to values.") }}
        {%- endif -%}
        {%- set params = {} -%}
        {%- do params.update(defaults) -%}
        {%- for name, value in overrides.items() -%}
            {%- if name not in defaults -%}
                {{ exceptions.raise_compiler_error(where ~ ": var segments.params." ~ raw.family ~ " sets '" ~ name ~ "', which is not one of the family's params (" ~ (defaults.keys() | list | join(', ')) ~ ").") }}
            {%- endif -%}
            {%- do params.update({name: value}) -%}
        {%- endfor -%}
        {%- set rule_segments = [] -%}
        {%- set fallbacks = [] -%}
        {%- set seen_segments = [] -%}
        {%- set seen_priorities = [] -%}
        {%- for raw_segment in raw.segments -%}
            {%- set segment_where = where ~ ", segment '" ~ raw_segment.get('segment', '#' ~ loop.index) ~ "'" -%}
            {%- if not raw_segment.get('segment') or not raw_segment.get('description') -%}
                {{ exceptions.raise_compiler_error(segment_where ~ ": 'segment' and 'description' are required.") }}
            {%- endif -%}
            {%- set status = raw_segment.get('status', 'active') -%}
            {%- if status not in ['active', 'retired'] -%}
                {{ exceptions.raise_compiler_error(segment_where ~ ": status must be active or retired, not '" ~ status ~ "'.") }}
            {%- endif -%}
            {%- if raw_segment.segment in seen_segments -%}
                {{ exceptions.raise_compiler_error(segment_where ~ ": the segment is listed twice.") }}
            {%- endif -%}
            {%- do seen_segments.append(raw_segment.segment) -%}
            {%- set is_fallback = raw_segment.get('fallback', false) is sameas true -%}
            {%- set segment = {
                'segment': raw_segment.segment,
                'description': raw_segment.description | trim,
                'owner': raw_segment.get('owner', raw.owner),
                'status': status,
                'is_fallback': is_fallback,
                'is_unknown': raw_segment.get('unknown', false) is sameas true,
                'rule': none,
                'value': raw_segment.get('value'),
                'priority': raw_segment.get('priority')
            } -%}
            {%- if is_fallback -%}
                {%- if raw_segment.get('rule') or raw_segment.get('value') -%}
                    {{ exceptions.raise_compiler_error(segment_where ~ ": the fallback takes whoever no rule matches, so it has no rule or value.") }}
                {%- endif -%}
                {%- if status != 'active' -%}
                    {{ exceptions.raise_compiler_error(segment_where ~ ": the fallback cannot be retired; make another segment the fallback first.") }}
                {%- endif -%}
                {%- do fallbacks.append(segment) -%}
            {%- else -%}
                {%- if not raw_segment.get('rule') -%}
                    {{ exceptions.raise_compiler_error(segment_where ~ ": a rule is required (or fallback: true).") }}
                {%- endif -%}
                {%- if raw_segment.get('priority') is not number or raw_segment.priority in seen_priorities -%}
                    {{ exceptions.raise_compiler_error(segment_where ~ ": priority must be a number, unique within the family.") }}
                {%- endif -%}
                {%- do seen_priorities.append(raw_segment.priority) -%}
                {%- do segment.update({'rule': segment_render_rule(raw_segment.rule, params, segment_where)}) -%}
                {%- do rule_segments.append(segment) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if fallbacks | length != 1 -%}
            {{ exceptions.raise_compiler_error(where ~ ": exactly one segment must be the fallback (fallback: true), found " ~ fallbacks | length ~ ".") }}
        {%- endif -%}
        {%- set ordered = rule_segments | sort(attribute='priority') -%}
        {%- set fallback = fallbacks[0] -%}
        {%- set last_priority = (ordered | map(attribute='priority') | max) if ordered else 0 -%}
        {%- if fallback.priority is none -%}
            {%- do fallback.update({'priority': last_priority + 1}) -%}
        {%- elif fallback.priority is not number or fallback.priority <= last_priority -%}
            {{ exceptions.raise_compiler_error(where ~ ": the fallback's priority must come after every rule's.") }}
        {%- endif -%}
        {%- set active_rules = ordered | selectattr('status', 'equalto', 'active') | list -%}
        {%- do families.append({
            'family': raw.family,
            'column': raw.column,
            'order': raw.order,
            'file': declaration.file,
            'group': raw.get('group', 'other'),
            'description': raw.description | trim,
            'owner': raw.owner,
            'metrics': raw.get('metrics') or [],
            'params': params,
            'segments': ordered + [fallback],
            'active_rules': active_rules,
            'fallback': fallback,
            'has_value_segments': (active_rules | selectattr('value') | list | length) > 0,
            'active_names': (active_rules | rejectattr('value') | map(attribute='segment') | list)
                + [fallback.segment],
            'retired_names': ordered | selectattr('status', 'equalto', 'retired')
                | map(attribute='segment') | list
        }) -%}
    {%- endfor -%}
    {{ return(families | sort(attribute='order')) }}
{% endmacro %}
