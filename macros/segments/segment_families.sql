{#- The segment registry (var segment_families in dbt_project.yml), checked and
    normalised: a list of families, each with its segments in priority order, rules
    rendered (vars filled in) and the fallback last, and the names a column of the family
    may hold (active_names; value segments aside) or must not (retired_names). A malformed entry stops the run
    with a message naming it. -#}
{% macro segment_families() %}
    {%- set registry_file = 'var segment_families, dbt_project.yml or --vars' -%}
    {%- set raw_families = var('segment_families', []) -%}
    {%- if raw_families is not sequence or raw_families is string or raw_families | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "Segment registry (" ~ registry_file ~ "): expected a list of families.") }}
    {%- endif -%}
    {%- set families = [] -%}
    {%- set seen_families = [] -%}
    {%- set seen_columns = [] -%}
    {%- for raw in raw_families -%}
        {%- set where = "Segment registry (" ~ registry_file ~ "), family '" ~ raw.get('family', '#' ~ loop.index) ~ "'" -%}
        {%- for key in ['family', 'column', 'description', 'owner', 'segments'] -%}
            {%- if not raw.get(key) -%}
                {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is required.") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', raw.family) or not modules.re.match('^[a-z][a-z0-9_]*$', raw.column) -%}
            {{ exceptions.raise_compiler_error(where ~ ": family and column must be lower-case identifiers.") }}
        {%- endif -%}
        {%- if raw.family in seen_families or raw.column in seen_columns -%}
            {{ exceptions.raise_compiler_error(where ~ ": the family name or column '" ~ raw.column ~ "' is used twice.") }}
        {%- endif -%}
        {%- do seen_families.append(raw.family) -%}
        {%- do seen_columns.append(raw.column) -%}
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
                {%- do segment.update({'rule': render(raw_segment.rule | trim) | replace('\n', ' ')}) -%}
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
            'group': raw.get('group', 'other'),
            'description': raw.description | trim,
            'owner': raw.owner,
            'metrics': raw.get('metrics') or [],
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
    {{ return(families) }}
{% endmacro %}
