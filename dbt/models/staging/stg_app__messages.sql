with source as (
    select * from {{ source('app', 'messages') }}
),

renamed as (
    select
        id as message_id,
        workspace_id,
        lead_id,
        email_campaign_id,
        direction,
        channel,
        subject,
        body,
        from_address,
        to_address,
        sentiment,
        sentiment_confidence,
        platform_tag,
        is_automated_reply,
        sent_by,
        sent_by_user_id,
        ai_draft_id,
        delivery_status,
        source,
        external_id,
        follow_up_step,
        occurred_at,
        created_at,
        updated_at
    from source
)

select * from renamed
