{#- What the association rules are mined from, in one row: the mining date and a
    fingerprint of every row the basket items read as of it (macros/cross_db/hash_sum.sql).

    The rules are mined as of the latest refit date on or before as_of_date: every
    var('baskets.refit_every_days') days, counted from Monday 1970-01-05 (so every Monday
    at the default of 7; 1 mines as of as_of_date itself). The basket items and the rules
    are held tables (macros/materializations/held_table.sql): a run whose fingerprint
    equals the one they were built on keeps them as they are, so the rules cost a mining
    once per refit period, or when a row dated by the mining date arrives late or
    changes. -#}
{%- set refit_every_days = var('baskets.refit_every_days') | int -%}

with

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

orders as (
    select * from {{ ref('int_orders_enriched') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

returns as (
    select * from {{ ref('stg_shop__returns') }}
),

products as (
    select * from {{ ref('stg_shop__products') }}
),

mining_date as (
    select
        as_of_date,
        cast(
            {{ dbt.dateadd(
                'day',
                '-(' ~ dbt.datediff("cast('1970-01-05' as date)", 'as_of_date', 'day') ~ ' % ' ~ refit_every_days ~ ')',
                'as_of_date',
            ) }} as date
        ) as mined_as_of_date
    from as_of
),

mining_window as (
    select
        as_of_date,
        mined_as_of_date,
        {{ dbt.dateadd('day', 1, 'mined_as_of_date') }} as mined_as_of_end_at
    from mining_date
),

orders_mined as (
    select orders.order_id
    from orders
    cross join mining_window
    where orders.ordered_at < mining_window.mined_as_of_end_at
),

order_lines_mined as (
    select
        order_lines.order_line_id,
        order_lines.order_id,
        order_lines.product_id
    from order_lines
    inner join orders_mined
        on order_lines.order_id = orders_mined.order_id
),

returns_mined as (
    select returns.order_line_id
    from returns
    cross join mining_window
    where
        returns.order_line_id is not null
        and returns.returned_at < mining_window.mined_as_of_end_at
),

orders_fingerprint as (
    select
        count(*) as order_count,
        {{ hash_sum(['order_id']) }} as orders_hash
    from orders_mined
),

order_lines_fingerprint as (
    select
        count(*) as order_line_count,
        {{ hash_sum(['order_line_id', 'order_id', 'product_id']) }} as order_lines_hash
    from order_lines_mined
),

returns_fingerprint as (
    select
        count(*) as returned_line_count,
        {{ hash_sum(['order_line_id']) }} as returns_hash
    from returns_mined
),

products_fingerprint as (
    select
        count(*) as product_count,
        {{ hash_sum(['product_id', 'category']) }} as products_hash
    from products
),

final as (
    select
        mining_window.as_of_date,
        mining_window.mined_as_of_date,
        mining_window.mined_as_of_end_at,
        orders_fingerprint.order_count,
        order_lines_fingerprint.order_line_count,
        returns_fingerprint.returned_line_count,
        products_fingerprint.product_count,
        {{ dbt.concat([
            "cast(mining_window.mined_as_of_date as " ~ dbt.type_string() ~ ")",
            "'|'", "orders_fingerprint.orders_hash",
            "'|'", "order_lines_fingerprint.order_lines_hash",
            "'|'", "returns_fingerprint.returns_hash",
            "'|'", "products_fingerprint.products_hash",
        ]) }} as inputs_fingerprint
    from mining_window
    cross join orders_fingerprint
    cross join order_lines_fingerprint
    cross join returns_fingerprint
    cross join products_fingerprint
)

select * from final
