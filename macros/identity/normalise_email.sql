{#- An email address as identity matching compares it: trimmed and lower-cased. With var
    identity.email_provider_rules, also in the form the mailbox receives it under: a +tag
    suffix of the local part is dropped (any provider), and Gmail's dots in the local part
    and its googlemail.com domain are dropped too (a.b+x@googlemail.com is ab@gmail.com).
    A value without exactly one @ is only trimmed and lower-cased. -#}
{% macro normalise_email_for_matching(column) -%}
    {%- set provider_rules = var('identity.email_provider_rules') -%}
    {%- if provider_rules is string -%}
        {%- set provider_rules = provider_rules | lower in ['true', '1', 'yes'] -%}
    {%- endif -%}
    {%- set email = 'lower(trim(' ~ column ~ '))' -%}
    {%- if not provider_rules -%}
        {{ email }}
    {%- else -%}
        {%- set local_part = dbt.split_part(email, "'@'", 1) -%}
        {%- set domain = dbt.split_part(email, "'@'", 2) -%}
        {#- a local part that starts with + has no tag to drop -#}
        {%- set untagged = 'coalesce(nullif(' ~ dbt.split_part(local_part, "'+'", 1) ~ ", ''), " ~ local_part ~ ')' -%}
        (case
            when not {{ regex_like(email, '^[^@]+@[^@]+$') }} then {{ email }}
            when {{ domain }} in ('gmail.com', 'googlemail.com')
                then {{ dbt.replace(untagged, "'.'", "''") }} || '@gmail.com'
            else {{ untagged }} || '@' || {{ domain }}
        end)
    {%- endif -%}
{%- endmacro %}
