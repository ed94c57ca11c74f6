with source as (
    select * from {{ source('app', 'auto_send_decisions') }}
),

renamed as (
    select
        id as decision_id,
        workspace_id,
        lead_id,
        ai_draft_id,
        inbound_message_id,
        action,
        reason,
        confidence,
        threshold,
        inputs,
        guard_rules,
        scheduled_for,
        decided_at,
        created_at,
        updated_at
    from source
)

select * from renamed
