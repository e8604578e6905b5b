{#- Every person known as of as_of_date: the people with a customer-master account
    created by then (or with no creation date), plus everyone who has purchased by then
    (a card-only store buyer included). People come from identity resolution
    (int_identity_records_resolved), so several accounts of one person are one row. The
    placeholder of erased people (erased_customer_id) is not a person: never here. -#}
-- A run whose sources failed a data-quality gate or are stale builds nothing on top of them:
-- depends_on: {{ ref('int_raw_tables_gated') }}, {{ ref('int_source_freshness_checked') }}

with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

resolved as (
    select * from {{ ref('int_identity_records_resolved') }}
    where source = 'shop' and customer_id <> {{ erased_customer_id() }}
),

orders as (
    select * from {{ ref('int_orders_unioned') }}
),

as_of as (
    select * from {{ ref('int_as_of_date_resolved') }}
),

master_accounts as (
    select
        resolved.customer_id,
        customers.signed_up_at
    from resolved
    inner join customers
        on resolved.source_customer_id = customers.customer_id
),

account_holders as (
    select distinct master_accounts.customer_id
    from master_accounts
    cross join as_of
    where
        master_accounts.signed_up_at is null
        or master_accounts.signed_up_at < as_of.as_of_end_at
),

purchasers as (
    select distinct orders.customer_id
    from orders
    cross join as_of
    where
        orders.ordered_at < as_of.as_of_end_at
        and not coalesce(orders.customer_id = {{ erased_customer_id() }}, false)
),

known_people as (
    select customer_id from account_holders
    union
    select customer_id from purchasers
),

master_people as (
    select distinct customer_id
    from master_accounts
),

final as (
    select
        known_people.customer_id,
        master_people.customer_id is not null as is_in_customer_master
    from known_people
    left join master_people
        on known_people.customer_id = master_people.customer_id
)

select * from final
