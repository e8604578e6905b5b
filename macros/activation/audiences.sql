{#- The declared audiences, checked. Each audience is declared in its own file,
    models/marts/activation/audiences/<audience>.yml, as an exposure whose
    config.meta.audience holds: the audience name, the channel and the consent purpose
    it contacts people for, and a filter over the segment families of the registry
    (`segments`: family -> segment names, every family must match one of its names;
    `exclude`: family -> segment names nobody in the audience may hold). Audiences come
    back sorted by name, each with its `filters` as rows (family, segment, is_exclusion).
    At parse time, and in contexts without the graph (dbt unit tests), the list is empty.
    A malformed audience stops the run with a message naming its file. -#}
{% macro audiences() %}
    {%- if not execute or graph is not defined or 'exposures' not in graph -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set families = {} -%}
    {%- for family in segment_families() -%}
        {%- do families.update({family.family: family}) -%}
    {%- endfor -%}
    {%- set contact_channels = var('audiences.channels') -%}
    {%- set purposes = var('consent.purposes') | reject('equalto', 'profiling') | list -%}
    {%- set declared = [] -%}
    {%- for exposure in graph.exposures.values() -%}
        {%- set meta = exposure.config.meta if exposure.config and exposure.config.meta else (exposure.meta or {}) -%}
        {%- if meta.get('audience') is not none -%}
            {%- do declared.append({'file': exposure.original_file_path, 'exposure': exposure, 'raw': meta.audience}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set result = [] -%}
    {%- set seen = [] -%}
    {%- for declaration in declared | sort(attribute='file') -%}
        {%- set raw = declaration.raw -%}
        {%- set where = "Audience (" ~ declaration.file ~ ")" -%}
        {%- if raw is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": config.meta.audience must be a mapping.") }}
        {%- endif -%}
        {%- for key in ['audience', 'channel', 'purpose', 'segments'] if not raw.get(key) -%}
            {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' is required.") }}
        {%- endfor -%}
        {%- if not modules.re.match('^[a-z][a-z0-9_]*$', raw.audience) -%}
            {{ exceptions.raise_compiler_error(where ~ ": audience name '" ~ raw.audience ~ "' must be lower_snake_case (it names the export files).") }}
        {%- endif -%}
        {%- if raw.audience in seen -%}
            {{ exceptions.raise_compiler_error(where ~ ": audience '" ~ raw.audience ~ "' is declared twice.") }}
        {%- endif -%}
        {%- do seen.append(raw.audience) -%}
        {%- if raw.channel not in contact_channels -%}
            {{ exceptions.raise_compiler_error(where ~ ": channel '" ~ raw.channel ~ "' is not one of audiences.channels " ~ contact_channels | join(', ') ~ ".") }}
        {%- endif -%}
        {%- if raw.purpose not in purposes -%}
            {{ exceptions.raise_compiler_error(where ~ ": purpose '" ~ raw.purpose ~ "' is not a contact purpose of consent.purposes (" ~ purposes | join(', ') ~ ").") }}
        {%- endif -%}
        {%- set filters = [] -%}
        {%- for key, is_exclusion in [('segments', false), ('exclude', true)] -%}
            {%- set filter = raw.get(key) or {} -%}
            {%- if filter is not mapping -%}
                {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' must map segment families to lists of segment names.") }}
            {%- endif -%}
            {%- for family_name, names in filter.items() -%}
                {%- if family_name not in families and family_name != 'micro_segment' -%}
                    {{ exceptions.raise_compiler_error(where ~ ": '" ~ family_name ~ "' in " ~ key ~ " is not a segment family of the registry.") }}
                {%- endif -%}
                {%- set names = [names] if names is string else names -%}
                {%- if names is not iterable or names | length == 0 -%}
                    {{ exceptions.raise_compiler_error(where ~ ": " ~ key ~ "." ~ family_name ~ " must list at least one segment.") }}
                {%- endif -%}
                {%- set family = families.get(family_name) -%}
                {%- for name in names -%}
                    {%- if family and not family.has_value_segments and name not in family.active_names -%}
                        {{ exceptions.raise_compiler_error(where ~ ": '" ~ name ~ "' is not an active segment of family '" ~ family_name ~ "' (" ~ family.active_names | join(', ') ~ ").") }}
                    {%- endif -%}
                    {%- do filters.append({'segment_family': family_name, 'segment': name | string, 'is_exclusion': is_exclusion}) -%}
                {%- endfor -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- if filters | rejectattr('is_exclusion') | list | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ ": 'segments' must name at least one family to include.") }}
        {%- endif -%}
        {%- do result.append({
            'audience': raw.audience,
            'channel': raw.channel,
            'purpose': raw.purpose,
            'description': (declaration.exposure.description or '') | trim,
            'owner': (declaration.exposure.owner or {}).get('name'),
            'file': declaration.file,
            'filters': filters,
        }) -%}
    {%- endfor -%}
    {{ return(result | sort(attribute='audience')) }}
{% endmacro %}
