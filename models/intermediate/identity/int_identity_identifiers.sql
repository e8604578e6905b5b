{#- What identifies each source record, one row per record, identifier type and value:
    the normalised email and the E.164 phone of a shop account, every loyalty card an
    account holds or was seen with at the till, and every anonymous id an account was
    logged in under; a card record carries its card, a visitor record its anonymous id.
    Two records sharing a value are candidates for the same person
    (int_identity_links_proposed).

    Each source is read once and each identifier type is deduplicated on its own (the
    types never share a row), so no step holds every identifier at once: at 10M
    customers one distinct over all of them, joined to every record, ran out of memory
    at 10GB (DECISIONLOG.md, "Identifiers are deduplicated type by type"). -#}
with

shop_records as (
    select * from {{ ref('int_identity_records') }}
    where source = 'shop'
),

card_and_visitor_records as (
    select * from {{ ref('int_identity_records') }}
    where source in ('pos', 'web')
),

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

store_transactions as (
    select * from {{ ref('stg_pos__store_transactions') }}
),

sessions as (
    select * from {{ ref('stg_web__sessions') }}
),

account_identifier_types as (
    select 'email' as identifier_type
    union all
    select 'phone' as identifier_type
),

account_contacts as (
    -- One account per customer id (stg_shop__customers is unique on it), so one row per
    -- account and type without deduplicating.
    select
        customers.customer_id,
        account_identifier_types.identifier_type,
        case account_identifier_types.identifier_type
            when 'email' then {{ normalise_email_for_matching('customers.email') }}
            else customers.phone_e164
        end as identifier_value
    from customers
    cross join account_identifier_types
),

cards_seen as (
    -- the card on the account, and every card seen with the account at a till
    select
        customer_id,
        loyalty_card_id
    from customers
    union all
    select
        customer_id,
        loyalty_card_id
    from store_transactions
    where customer_id is not null
),

account_cards as (
    select distinct
        customer_id,
        loyalty_card_id
    from cards_seen
    where loyalty_card_id is not null
),

account_logins as (
    select distinct
        customer_id,
        anonymous_id
    from sessions
    where customer_id is not null and anonymous_id is not null
),

account_identifiers as (
    select
        customer_id,
        identifier_type,
        identifier_value
    from account_contacts
    where identifier_value is not null
    union all
    select
        customer_id,
        'loyalty_card' as identifier_type,
        loyalty_card_id as identifier_value
    from account_cards
    union all
    select
        customer_id,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value
    from account_logins
),

known_account_identifiers as (
    -- Only identifiers of known records: without a customer master, an account id seen
    -- only in sessions is no record, so its logins link nothing.
    select
        shop_records.record_key,
        account_identifiers.identifier_type,
        account_identifiers.identifier_value
    from account_identifiers
    inner join shop_records
        on account_identifiers.customer_id = shop_records.source_customer_id
),

own_identifiers as (
    -- a card record carries its card, a visitor record its anonymous id: one row each
    select
        record_key,
        case source when 'pos' then 'loyalty_card' else 'anonymous_id' end as identifier_type,
        source_customer_id as identifier_value
    from card_and_visitor_records
    where source_customer_id is not null
),

final as (
    select * from known_account_identifiers
    union all
    select * from own_identifiers
)

select * from final
