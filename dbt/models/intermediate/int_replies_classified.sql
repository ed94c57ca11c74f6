with messages as (
    select * from {{ ref('stg_app__messages') }}
),

labels as (
    select * from {{ ref('sentiment_labels') }}
),

inbound as (
    select
        message_id,
        workspace_id,
        lead_id,
        sentiment,
        occurred_at
    from messages
    where direction = 'inbound'
        and lead_id is not null
),

final as (
    select
        inbound.message_id,
        inbound.workspace_id,
        inbound.lead_id,
        inbound.sentiment,
        inbound.occurred_at,
        coalesce(labels.is_positive, false) as is_positive,
        coalesce(labels.is_meeting_requested, false) as is_meeting_requested,
        -- A reply not yet classified still counts as a reply.
        coalesce(labels.counts_as_reply, true) as counts_as_reply
    from inbound
    left join labels
        on inbound.sentiment = labels.sentiment
)

select * from final
