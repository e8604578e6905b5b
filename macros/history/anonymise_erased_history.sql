{#- pre-hook of segment_membership_history, after rewind_history and reopen_history:
    every row of an erased person (int_erased_records) is re-keyed to an anonymous
    placeholder, `(erased) <n>`, one number per person, so the segments, valid_from and
    valid_to recorded stay and segment_transitions still adds up to segment_size_history.
    The person's open versions are not closed here: the model closes them on the run date,
    as for any customer who leaves.

    n: the largest number already in the history plus the person's rank among the people
    re-keyed by this run (ordered by the erasure_log row, first_applied_at then
    erasure_hash, of the first request that erased them, then the person id). Numbers
    given on earlier runs never change, new ones are always larger, and two people never
    share one, even when one request matched both (an email on two people). Never derived
    from an identifier: nothing can be recomputed from an email or id.

    Renders nothing on the first build. The model must declare
    `-- depends_on: {{ ref('int_erased_records') }}`, `{{ ref('int_erasure_requests_matched') }}`
    and `{{ ref('erasure_log') }}`. -#}
{% macro anonymise_erased_history(column) -%}
    {%- if is_incremental() -%}
        {{ return(adapter.dispatch('anonymise_erased_history', 'segment_warehouse')(column)) }}
    {%- endif -%}
{%- endmacro %}

{#- Standard SQL `update ... from` (DuckDB, Postgres). Spark has no `update ... from`: a
    Spark or Databricks implementation (a `merge into`) is not written yet. -#}
{% macro default__anonymise_erased_history(column) -%}
    {%- set prefix = erased_customer_id() ~ " || ' '" -%}
    update {{ this }} as history
    set {{ column }} = placeholders.placeholder_id
    from (
        with

        numbered_before as (
            select
                coalesce(max({{ dbt.safe_cast(
                    'replace(' ~ column ~ ', ' ~ prefix ~ ", '')", dbt.type_bigint()
                ) }}), 0) as max_number
            from {{ this }}
            where {{ column }} like {{ prefix }} || '%'
        ),

        log_order as (
            select
                erasure_hash,
                row_number() over (order by first_applied_at, erasure_hash) as log_number
            from {{ ref('erasure_log') }}
        ),

        request_order as (
            select
                matched.person_id,
                min(log_order.log_number) as log_number
            from {{ ref('int_erasure_requests_matched') }} as matched
            inner join log_order
                on matched.erasure_hash = log_order.erasure_hash
            where matched.is_matched
            group by matched.person_id
        ),

        people as (
            select distinct erased.person_id
            from {{ ref('int_erased_records') }} as erased
            inner join {{ this }} as recorded
                on erased.person_id = recorded.{{ column }}
        ),

        ranked as (
            select
                people.person_id,
                row_number() over (
                    order by
                        case when request_order.log_number is null then 1 else 0 end,
                        request_order.log_number,
                        people.person_id
                ) as person_rank
            from people
            left join request_order
                on people.person_id = request_order.person_id
        )

        select
            ranked.person_id,
            {{ prefix }} || cast(numbered_before.max_number + ranked.person_rank as {{ dbt.type_string() }})
                as placeholder_id
        from ranked
        cross join numbered_before
    ) as placeholders
    where history.{{ column }} = placeholders.person_id
{%- endmacro %}

{% macro spark__anonymise_erased_history(column) -%}
    {{ exceptions.raise_compiler_error(
        "anonymise_erased_history has no Spark implementation yet (it needs a merge into)"
    ) }}
{%- endmacro %}
