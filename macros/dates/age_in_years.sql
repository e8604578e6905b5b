{#- Completed years between two dates: a birthday counts from the day itself. -#}
{% macro age_in_years(birth_date, as_of_date) -%}
    (
        {{ dbt.datediff(birth_date, as_of_date, 'year') }}
        - case
            when extract(month from {{ as_of_date }}) < extract(month from {{ birth_date }})
                or (
                    extract(month from {{ as_of_date }}) = extract(month from {{ birth_date }})
                    and extract(day from {{ as_of_date }}) < extract(day from {{ birth_date }})
                )
                then 1
            else 0
        end
    )
{%- endmacro %}
