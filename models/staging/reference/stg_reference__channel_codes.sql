{#- Channel spellings (lower case) mapped to a channel and its group (online, offline, remote). -#}
with

channel_codes as (
    select * from {{ ref('channel_codes') }}
),

final as (
    select
        lower(trim(channel_alias)) as channel_alias,
        channel,
        channel_group
    from channel_codes
)

select * from final
