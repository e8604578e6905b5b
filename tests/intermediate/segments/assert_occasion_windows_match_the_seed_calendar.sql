{#- The generated occasion windows agree with seeds/occasion_calendar.csv (2015-2035)
    in every year both cover: same occasions, same first and last days. Returns each
    disagreement. -#}
with

generated as (
    select
        occasion,
        occasion_group,
        start_date,
        end_date,
        extract(year from start_date) as calendar_year
    from {{ ref('int_occasion_windows_generated') }}
),

seeded as (
    select
        occasion,
        occasion_group,
        start_date,
        end_date,
        extract(year from start_date) as calendar_year
    from {{ ref('stg_reference__occasion_calendar') }}
),

common_years as (
    select distinct generated.calendar_year
    from generated
    inner join seeded
        on generated.calendar_year = seeded.calendar_year
),

generated_in_common_years as (
    select generated.*
    from generated
    inner join common_years
        on generated.calendar_year = common_years.calendar_year
),

seeded_in_common_years as (
    select seeded.*
    from seeded
    inner join common_years
        on seeded.calendar_year = common_years.calendar_year
),

compared as (
    select
        coalesce(generated_windows.occasion, seeded_windows.occasion) as occasion,
        coalesce(generated_windows.calendar_year, seeded_windows.calendar_year) as calendar_year,
        generated_windows.start_date as generated_start_date,
        seeded_windows.start_date as seeded_start_date,
        generated_windows.end_date as generated_end_date,
        seeded_windows.end_date as seeded_end_date
    from generated_in_common_years as generated_windows
    full outer join seeded_in_common_years as seeded_windows
        on
            generated_windows.occasion = seeded_windows.occasion
            and generated_windows.calendar_year = seeded_windows.calendar_year
            and generated_windows.occasion_group = seeded_windows.occasion_group
)

select * from compared
where
    generated_start_date is null
    or seeded_start_date is null
    or generated_start_date <> seeded_start_date
    or generated_end_date <> seeded_end_date
