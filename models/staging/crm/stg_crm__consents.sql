with

consents as (
    select * from {{ ref('base_crm__consents') }}
    where quarantine_reason is null
),

final as (
    select
        consent_id,
        customer_id,
        channel,
        purpose,
        status,
        collection_point,
        status = 'granted' as is_granted,
        recorded_at
    from consents
)

select * from final
