{#- Gender spellings (lower case) mapped to female, male or diverse. -#}
with

gender_codes as (
    select * from {{ ref('gender_codes') }}
),

final as (
    select
        lower(trim(gender_alias)) as gender_alias,
        gender
    from gender_codes
)

select * from final
