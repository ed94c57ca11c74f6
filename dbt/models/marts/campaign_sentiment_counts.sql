with replies as (
    select * from {{ ref('int_replies_classified') }}
),

leads as (
    select * from {{ ref('stg_app__leads') }}
),

workspaces as (
    select * from {{ ref('stg_app__workspaces') }}
),

final as (
    select
        replies.workspace_id,
        leads.email_campaign_id,
        cast(timezone(workspaces.timezone, replies.occurred_at) as date) as reply_date,
        coalesce(replies.sentiment, 'Unclassified') as sentiment,
        count(*) as replies
    from replies
    inner join leads
        on replies.lead_id = leads.lead_id
    inner join workspaces
        on replies.workspace_id = workspaces.workspace_id
    where leads.email_campaign_id is not null
    group by 1, 2, 3, 4
)

select * from final
