{#- Micro-segments: the cross of the families in var segments.micro_families (e.g.
    lifecycle x value x omnichannel). Cells with fewer than segments.micro_min_size
    customers are merged into 'Other'; when the merged cells together are still below
    the minimum, the next smallest cells join them until 'Other' reaches it, so no
    published cell is smaller than the minimum (unless all customers together are). -#}
{%- set min_size = var('segments.micro_min_size') | int -%}
{%- set family_names = var('segments.micro_families') -%}
{%- set columns = [] -%}
{%- for name in family_names -%}
    {%- set family = segment_family(name) -%}
    {%- if family is not none -%}{%- do columns.append(family.column) -%}{%- endif -%}
{%- endfor -%}

with

assigned as (
    select * from {{ ref('int_customer_segments_assigned') }}
),

cells as (
    select
        customer_id,
        {%- if columns %}
            {%- set parts = [] -%}
            {%- for column in columns -%}
                {%- if not loop.first %}{% do parts.append("' | '") %}{% endif -%}
                {%- do parts.append(column) -%}
            {%- endfor %}
            {{ dbt.concat(parts) }} as micro_segment_cell,
        {%- else %}
        cast('All customers' as {{ dbt.type_string() }}) as micro_segment_cell,
        {%- endif %}
        as_of_date
    from assigned
),

cell_sizes as (
    select
        micro_segment_cell,
        count(*) as cell_size
    from cells
    group by micro_segment_cell
),

cells_ordered as (
    select
        micro_segment_cell,
        cell_size,
        sum(case when cell_size < {{ min_size }} then 1 else 0 end) over () as small_cell_count,
        coalesce(sum(cell_size) over (
            order by cell_size, micro_segment_cell
            rows between unbounded preceding and 1 preceding
        ), 0) as smaller_cells_size
    from cell_sizes
),

cells_merged as (
    select
        micro_segment_cell,
        cell_size,
        cell_size < {{ min_size }}
        or (small_cell_count > 0 and smaller_cells_size < {{ min_size }}) as is_merged
    from cells_ordered
),

cells_published as (
    -- Per cell (a few hundred rows): the published micro-segment and its size.
    select
        micro_segment_cell,
        cell_size,
        is_merged,
        case when is_merged then 'Other' else micro_segment_cell end as micro_segment,
        sum(cell_size) over (partition by case when is_merged then 'Other' else micro_segment_cell end)
            as micro_segment_size
    from cells_merged
),

final as (
    select
        cells.customer_id,
        cells_published.micro_segment,
        cells.micro_segment_cell,
        cast(cells_published.cell_size as {{ dbt.type_bigint() }}) as micro_segment_cell_size,
        cast(cells_published.micro_segment_size as {{ dbt.type_bigint() }}) as micro_segment_size,
        cells_published.is_merged,
        cells.as_of_date
    from cells
    inner join cells_published
        on cells.micro_segment_cell = cells_published.micro_segment_cell
)

select * from final
