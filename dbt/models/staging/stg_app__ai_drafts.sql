with source as (
    select * from {{ source('app', 'ai_drafts') }}
),

renamed as (
    select
        id as ai_draft_id,
        workspace_id,
        lead_id,
        inbound_message_id,
        channel,
        body,
        status,
        confidence,
        safe_to_send,
        evaluation_reason,
        previous_draft_id,
        revision_round,
        created_at,
        updated_at
    from source
)

select * from renamed
