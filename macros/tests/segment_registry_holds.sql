{#- The invariants of every family in the segment registry, derived from the registry
    itself, on a long assignments model (one row per customer and family): each customer
    of `customers` has exactly one assignment per family, none is null, the segment is
    one of the family's active segments (or a label from an active value segment), no
    retired segment is assigned, and no assignment belongs to an unknown customer.
    Families in `extra_families` (e.g. the micro-segment) are checked for one row per
    customer only. Returns one row per problem. One pass over the assignments with a
    per-customer aggregate, so it stays cheap at hundreds of millions of rows. -#}
{% test segment_registry_holds(model, customers, extra_families=[], customer_key='customer_id') %}
{%- set families = segment_families() %}
{%- set family_names = (families | map(attribute='family') | list) + extra_families %}
{%- if family_names | length > 62 %}
    {{ exceptions.raise_compiler_error("segment_registry_holds checks at most 62 families, got " ~ family_names | length ~ ".") }}
{%- endif %}

with

assignments as (
    select
        {{ customer_key }} as customer_key,
        segment_family,
        segment
    from {{ model }}
),

known_customers as (
    select {{ customer_key }} as customer_key from {{ customers }}
),

per_customer as (
    -- Each family contributes its own bit, so a customer holds every family exactly
    -- once exactly when the count is right and the bits add up to all ones: a sum of
    -- n powers of two equals 2^n - 1 only if they are all different.
    select
        customer_key,
        count(*) as assignment_count,
        sum(
            case segment_family
                {%- for family_name in family_names %}
                    when {{ text_literal(family_name) }} then {{ 2 ** loop.index0 }}
                {%- endfor %}
                else 0
            end
        ) as family_bits,
        sum(case when segment is null then 1 else 0 end) as null_segment_count,
        sum(
            case
                when segment_family in ({{ text_literals(family_names) }}) then 0
                else 1
            end
        ) as unknown_family_count
    from assignments
    group by customer_key
),

cardinality_problems as (
    select
        coalesce(known_customers.customer_key, per_customer.customer_key) as customer_key,
        cast(null as {{ dbt.type_string() }}) as segment_family,
        cast(null as {{ dbt.type_string() }}) as segment,
        case
            when known_customers.customer_key is null then 'assignment for an unknown customer'
            when per_customer.customer_key is null then 'customer has no segment in any family'
            when per_customer.unknown_family_count > 0 then 'assignment in a family the registry does not know'
            when per_customer.null_segment_count > 0 then 'segment is null'
            else 'customer does not have exactly one segment in every family'
        end as problem
    from known_customers
    full outer join per_customer
        on known_customers.customer_key = per_customer.customer_key
    where
        known_customers.customer_key is null
        or per_customer.customer_key is null
        or per_customer.unknown_family_count > 0
        or per_customer.null_segment_count > 0
        or per_customer.assignment_count <> {{ family_names | length }}
        or per_customer.family_bits <> {{ 2 ** (family_names | length) - 1 }}
),

segment_problems as (
    {%- for family in families %}
    select
        customer_key,
        segment_family,
        segment,
        {%- if family.retired_names or not family.has_value_segments %}
        case
            {%- if family.retired_names %}
            when segment in ({{ text_literals(family.retired_names) }})
                then 'retired segment assigned'
            {%- endif %}
            {%- if not family.has_value_segments %}
            when segment not in ({{ text_literals(family.active_names) }})
                then 'segment is not an active segment of the family'
            {%- endif %}
        end as problem
        {%- else %}
        cast(null as {{ dbt.type_string() }}) as problem
        {%- endif %}
    from assignments
    where segment_family = {{ text_literal(family.family) }}
    union all
    {%- endfor %}
    select
        customer_key,
        segment_family,
        segment,
        cast(null as {{ dbt.type_string() }}) as problem
    from assignments
    where 1 = 0
)

select * from cardinality_problems
union all
select * from segment_problems
where problem is not null

{% endtest %}
