with

suppressions as (
    select * from {{ ref('base_crm__suppressions') }}
    where quarantine_reason is null
),

final as (
    select
        suppression_id,
        customer_id,
        email,
        phone_e164,
        channel,
        reason,
        recorded_at
    from suppressions
)

select * from final
