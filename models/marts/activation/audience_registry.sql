{#- One row per audience declared in models/marts/activation/audiences/*.yml: what it
    contacts people through and for, and its filter in words. -#}
{%- set declared = audiences() -%}

with

{% if declared -%}
    declarations as (
        {%- for audience in declared %}
            select
                {{ text_literal(audience.audience) }} as audience,
                {{ text_literal(audience.channel) }} as channel,
                {{ text_literal(audience.purpose) }} as purpose,
                {{ text_literal(audience.description) }} as audience_description,
                {{ text_literal(audience.owner or '') }} as audience_owner,
                {{ text_literal(audience_filter_description(audience.filters)) }} as filter_description,
                {{ text_literal(audience.file) }} as declaration_file
            {%- if not loop.last %}
                union all
            {%- endif -%}
        {%- endfor %}
    ),
{%- else -%}
    declarations as (
        select
            cast(null as {{ dbt.type_string() }}) as audience,
            cast(null as {{ dbt.type_string() }}) as channel,
            cast(null as {{ dbt.type_string() }}) as purpose,
            cast(null as {{ dbt.type_string() }}) as audience_description,
            cast(null as {{ dbt.type_string() }}) as audience_owner,
            cast(null as {{ dbt.type_string() }}) as filter_description,
            cast(null as {{ dbt.type_string() }}) as declaration_file
        where 1 = 0
    ),
{%- endif %}

final as (
    select
        audience,
        channel,
        purpose,
        audience_description,
        audience_owner,
        filter_description,
        declaration_file
    from declarations
)

select * from final
