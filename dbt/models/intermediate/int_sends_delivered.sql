-- Outbound messages that actually went out; a claimed, failed or unknown send is not a send.
with messages as (
    select * from {{ ref('stg_app__messages') }}
),

leads as (
    select * from {{ ref('stg_app__leads') }}
),

final as (
    select
        messages.message_id,
        messages.workspace_id,
        messages.lead_id,
        coalesce(leads.email_campaign_id, messages.email_campaign_id) as email_campaign_id,
        messages.sent_by,
        messages.sent_by_user_id,
        messages.channel,
        messages.ai_draft_id,
        messages.body,
        messages.follow_up_step,
        messages.occurred_at
    from messages
    left join leads
        on messages.lead_id = leads.lead_id
    where messages.direction = 'outbound'
        and coalesce(messages.delivery_status, 'sent') = 'sent'
)

select * from final
