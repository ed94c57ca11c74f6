with source as (
    select * from {{ source('app', 'notifications') }}
),

renamed as (
    select
        id as notification_id,
        workspace_id,
        lead_id,
        ai_draft_id,
        kind,
        dedupe_key,
        status,
        attempts,
        last_error,
        last_attempt_at,
        slack_channel,
        slack_ts,
        sent_at,
        created_at,
        updated_at
    from source
)

select * from renamed
