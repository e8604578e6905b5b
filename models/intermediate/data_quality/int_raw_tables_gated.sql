{#- The data-quality gates, one row per raw table and run: rows read, staged and
    quarantined, the top reasons, and the verdict. A gate that fails (status error) stops
    the build here: the post-hook raises with every failed gate's message, so nothing on
    top of these sources is built and nothing is published. Errors: more than
    quarantine_error_share of a table's rows quarantined, a required table without one
    valid row, or raw rows that are neither staged nor quarantined. Warnings: more than
    quarantine_warn_share quarantined, or raw rows down by more than
    volume_drop_warn_share since the last run that passed (var quality.gates).

    Incremental: each run appends its rows, so the volumes of earlier runs stay for the
    comparison; a run whose gates fail is not kept. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        full_refresh=false,
        post_hook="{{ report_data_quality_gates() }}",
    )
}}

{%- set tables = raw_tables() -%}

with

{% for entry in tables %}
    {{ entry.table }}_base as (
        select
            count(case when quarantine_reason is null then 1 end) as valid_rows,
            count(case when quarantine_reason is not null then 1 end) as quarantined_rows
        from {{ ref(entry.base_model) }}
    ),

    {{ entry.table }}_staged as (
        select count(*) as staged_rows
        from {{ ref(entry.staging_model) }}
    ),

    {{ entry.table }}_reasons as (
        select
            quarantine_reason,
            count(*) as reason_rows,
            'row ' || cast(min(raw_row_number) as {{ dbt.type_string() }}) as example_position,
            min_by(quarantine_detail, raw_row_number) as example_detail
        from {{ ref(entry.base_model) }}
        where quarantine_reason is not null
        group by quarantine_reason
    ),

{% endfor %}

rejected_lines as (
    select * from {{ ref('stg_loader__rejected_lines') }}
),

loaded_tables as (
    select * from {{ ref('stg_loader__loaded_tables') }}
),

rejected_reasons as (
    select
        table_name,
        quarantine_reason,
        count(*) as reason_rows,
        'line ' || cast(min(line_number) as {{ dbt.type_string() }}) as example_position,
        min_by(error_message, line_number) as example_detail
    from rejected_lines
    group by table_name, quarantine_reason
),

counts as (
    {% for entry in tables %}
        select
            {{ text_literal(entry.source) }} as source_name,
            {{ text_literal(entry.table) }} as table_name,
            loaded_tables.raw_location,
            {{ 'true' if entry.required else 'false' }} as is_required,
            loaded_tables.readable_rows,
            {{ entry.table }}_base.valid_rows,
            {{ entry.table }}_base.quarantined_rows as checked_quarantined_rows,
            {{ entry.table }}_staged.staged_rows,
            cast({{ data_quality_gate_setting(entry.table, 'quarantine_warn_share') }} as {{ type_ratio() }})
                as quarantine_warn_share,
            cast({{ data_quality_gate_setting(entry.table, 'quarantine_error_share') }} as {{ type_ratio() }})
                as quarantine_error_share,
            cast({{ data_quality_gate_setting(entry.table, 'volume_drop_warn_share') }} as {{ type_ratio() }})
                as volume_drop_warn_share
        from loaded_tables
        cross join {{ entry.table }}_base
        cross join {{ entry.table }}_staged
        where loaded_tables.table_name = {{ text_literal(entry.table) }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {% endfor %}
),

reasons as (
    {% for entry in tables %}
        select
            {{ text_literal(entry.table) }} as table_name,
            quarantine_reason,
            reason_rows,
            example_position,
            example_detail
        from {{ entry.table }}_reasons
        union all
    {% endfor %}
    select
        table_name,
        quarantine_reason,
        reason_rows,
        example_position,
        example_detail
    from rejected_reasons
),

ranked_reasons as (
    select
        *,
        row_number() over (
            partition by table_name order by reason_rows desc, quarantine_reason asc
        ) as reason_rank
    from reasons
),

top_reasons as (
    select
        table_name,
        sum(reason_rows) as quarantined_rows,
        {{ dbt.listagg(
            "case when reason_rank <= 3 then quarantine_reason || ' ' || cast(reason_rows as "
            ~ dbt.type_string() ~ ") || ' (e.g. ' || example_position || ': ' || coalesce(example_detail, '') || ')' end",
            "'; '",
            "order by reason_rank",
        ) }} as top_reasons
    from ranked_reasons
    group by table_name
),

malformed_counts as (
    select
        table_name,
        count(*) as rejected_lines
    from rejected_lines
    group by table_name
),

{% if is_incremental() %}
previous_runs as (
    select
        table_name,
        raw_rows,
        checked_at,
        row_number() over (partition by table_name order by checked_at desc) as run_rank
    from {{ this }}
    where gate_status <> 'error'
),

previous_volumes as (
    select
        table_name,
        raw_rows as previous_raw_rows,
        checked_at as previous_checked_at
    from previous_runs
    where run_rank = 1
),
{% else %}
    previous_volumes as (
        select
            cast(null as {{ dbt.type_string() }}) as table_name,
            cast(null as {{ dbt.type_bigint() }}) as previous_raw_rows,
            cast(null as {{ dbt.type_timestamp() }}) as previous_checked_at
        where 1 = 0
    ),
{% endif %}

measured as (
    select
        counts.source_name,
        counts.table_name,
        counts.raw_location,
        counts.is_required,
        counts.readable_rows + coalesce(malformed_counts.rejected_lines, 0) as raw_rows,
        counts.staged_rows,
        counts.checked_quarantined_rows + coalesce(malformed_counts.rejected_lines, 0) as quarantined_rows,
        top_reasons.top_reasons,
        previous_volumes.previous_raw_rows,
        previous_volumes.previous_checked_at,
        counts.quarantine_warn_share,
        counts.quarantine_error_share,
        counts.volume_drop_warn_share
    from counts
    left join malformed_counts
        on counts.table_name = malformed_counts.table_name
    left join top_reasons
        on counts.table_name = top_reasons.table_name
    left join previous_volumes
        on counts.table_name = previous_volumes.table_name
),

shares as (
    select
        *,
        raw_rows - staged_rows - quarantined_rows as unaccounted_rows,
        case when raw_rows > 0 then 1.0 * quarantined_rows / raw_rows else 0 end as quarantined_share,
        case
            when previous_raw_rows > 0 then 1.0 * (previous_raw_rows - raw_rows) / previous_raw_rows
        end as volume_drop_share
    from measured
),

judged as (
    select
        *,
        case
            when unaccounted_rows <> 0 then 'error'
            when is_required and staged_rows = 0 then 'error'
            when quarantined_share > quarantine_error_share then 'error'
            when quarantined_share > quarantine_warn_share then 'warn'
            when volume_drop_share > volume_drop_warn_share then 'warn'
            else 'pass'
        end as gate_status,
        source_name || '.' || table_name || ' (' || raw_location || '): ' as message_prefix,
        cast(quarantined_rows as {{ dbt.type_string() }}) || ' of '
        || cast(raw_rows as {{ dbt.type_string() }}) || ' rows quarantined ('
        || cast(round(100 * quarantined_share, 1) as {{ dbt.type_string() }}) || ' %'
            as quarantined_text
    from shares
),

final as (
    select
        source_name,
        table_name,
        raw_location,
        cast(raw_rows as {{ dbt.type_bigint() }}) as raw_rows,
        cast(staged_rows as {{ dbt.type_bigint() }}) as staged_rows,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
        cast(unaccounted_rows as {{ dbt.type_bigint() }}) as unaccounted_rows,
        cast(quarantined_share as {{ type_ratio() }}) as quarantined_share,
        cast(quarantine_warn_share as {{ type_ratio() }}) as quarantine_warn_share,
        cast(quarantine_error_share as {{ type_ratio() }}) as quarantine_error_share,
        top_reasons,
        cast(previous_raw_rows as {{ dbt.type_bigint() }}) as previous_raw_rows,
        cast(volume_drop_share as {{ type_ratio() }}) as volume_drop_share,
        cast(volume_drop_warn_share as {{ type_ratio() }}) as volume_drop_warn_share,
        gate_status,
        case
            when unaccounted_rows <> 0
                then message_prefix || cast(unaccounted_rows as {{ dbt.type_string() }})
                    || ' raw rows are neither staged nor quarantined (raw ' || cast(raw_rows as {{ dbt.type_string() }})
                    || ', staged ' || cast(staged_rows as {{ dbt.type_string() }})
                    || ', quarantined ' || cast(quarantined_rows as {{ dbt.type_string() }}) || ')'
            when is_required and staged_rows = 0
                then message_prefix || 'no valid row in a required table; ' || quarantined_text
                    || '); top reasons: ' || coalesce(top_reasons, 'none (the table is empty)')
            when quarantined_share > quarantine_warn_share
                then message_prefix || quarantined_text || ', '
                    || case when gate_status = 'error' then 'error' else 'warning' end || ' above '
                    || cast(
                        round(100 * case when gate_status = 'error' then quarantine_error_share else quarantine_warn_share end, 1)
                        as {{ dbt.type_string() }}
                    )
                    || ' %); top reasons: ' || top_reasons
            when volume_drop_share > volume_drop_warn_share
                then message_prefix || cast(raw_rows as {{ dbt.type_string() }}) || ' raw rows, down '
                    || cast(round(100 * volume_drop_share, 1) as {{ dbt.type_string() }}) || ' % from '
                    || cast(previous_raw_rows as {{ dbt.type_string() }}) || ' in the run of '
                    || cast(previous_checked_at as {{ dbt.type_string() }}) || ' (warning above '
                    || cast(round(100 * volume_drop_warn_share, 1) as {{ dbt.type_string() }}) || ' %)'
        end as gate_message,
        is_required,
        cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S") }}' as {{ dbt.type_timestamp() }}) as checked_at
    from judged
)

select * from final
