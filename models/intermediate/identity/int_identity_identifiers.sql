{#- What identifies each source record, one row per record, identifier type and value:
    the normalised email and the E.164 phone of a shop account, every loyalty card an
    account holds or was seen with at the till, and every anonymous id an account was
    logged in under; a card record carries its card, a visitor record its anonymous id.
    Two records sharing a value are candidates for the same person
    (int_identity_links_proposed). -#}
with

records as (
    select * from {{ ref('int_identity_records') }}
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

shop_identifiers as (
    select
        'shop:' || customer_id as record_key,
        'email' as identifier_type,
        {{ normalise_email_for_matching('email') }} as identifier_value
    from customers
    union all
    select
        'shop:' || customer_id as record_key,
        'phone' as identifier_type,
        phone_e164 as identifier_value
    from customers
    union all
    select
        'shop:' || customer_id as record_key,
        'loyalty_card' as identifier_type,
        loyalty_card_id as identifier_value
    from customers
    union all
    select
        'shop:' || customer_id as record_key,
        'loyalty_card' as identifier_type,
        loyalty_card_id as identifier_value
    from store_transactions
    where customer_id is not null
    union all
    select
        'shop:' || customer_id as record_key,
        'anonymous_id' as identifier_type,
        anonymous_id as identifier_value
    from sessions
    where customer_id is not null
),

own_identifiers as (
    select
        record_key,
        case source when 'pos' then 'loyalty_card' else 'anonymous_id' end as identifier_type,
        source_customer_id as identifier_value
    from records
    where source in ('pos', 'web')
),

unioned as (
    select * from shop_identifiers
    union all
    select * from own_identifiers
),

final as (
    -- Only identifiers of known records: without a customer master, an account id seen
    -- only in sessions is no record, so its logins link nothing.
    select distinct
        unioned.record_key,
        unioned.identifier_type,
        unioned.identifier_value
    from unioned
    inner join records
        on unioned.record_key = records.record_key
    where unioned.identifier_value is not null
)

select * from final
