with

erasure_requests as (
    select * from {{ ref('base_crm__erasure_requests') }}
    where quarantine_reason is null
),

final as (
    select
        request_id,
        customer_id,
        email,
        requested_at
    from erasure_requests
)

select * from final
