{#- A registry rule with its placeholders filled in, on one line: `{name}` is the
    family's param `name` (its file's default or the var segments.params override) and
    `{var:name}` the project var `name`, read at execution time so --vars and unit-test
    overrides apply. Placeholders, not Jinja, because dbt renders Jinja in properties
    files when it parses them, before any override is known. -#}
{% macro segment_render_rule(rule, params, where) -%}
    {%- set state = {'rule': rule | trim} -%}
    {%- for placeholder in modules.re.findall('\{(var:)?([a-z_][a-z0-9_.]*)\}', state.rule) -%}
        {%- set name = placeholder[1] -%}
        {%- if placeholder[0] -%}
            {%- set value = var(name) -%}
        {%- elif name in params -%}
            {%- set value = params[name] -%}
        {%- else -%}
            {{ exceptions.raise_compiler_error(where ~ ": the rule uses {" ~ name ~ "}, which is not one of the family's params.") }}
        {%- endif -%}
        {%- do state.update({'rule': state.rule.replace('{' ~ placeholder[0] ~ name ~ '}', value | string)}) -%}
    {%- endfor -%}
    {%- if '{{' in state.rule or '{%' in state.rule -%}
        {{ exceptions.raise_compiler_error(where ~ ": rules take {param} and {var:name} placeholders, not Jinja.") }}
    {%- endif -%}
    {{ return(state.rule | replace('\n', ' ')) }}
{%- endmacro %}
