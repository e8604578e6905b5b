{#- Every raw row that broke the contract, from every source, with the reason. Assembled
    in stg_loader__quarantined_rows (only staging reads the raw sources); the contract
    here fixes the columns and their types. -#}
with

quarantined as (
    select * from {{ ref('stg_loader__quarantined_rows') }}
),

final as (
    select * from quarantined
)

select * from final
