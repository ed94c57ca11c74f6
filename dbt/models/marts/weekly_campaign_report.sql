with leads as (
    select * from {{ ref('int_leads_summarised') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
),

campaigns as (
    select * from {{ ref('stg_app__email_campaigns') }}
),

workspaces as (
    select * from {{ ref('stg_app__workspaces') }}
),

events as (
    select email_campaign_id, timezone, first_positive_at as happened_at, 'positive' as kind
    from leads where first_positive_at is not null
    union all
    select email_campaign_id, timezone, first_meeting_requested_at, 'meeting_requested'
    from leads where first_meeting_requested_at is not null
    union all
    select email_campaign_id, timezone, booked_at, 'booked'
    from leads where is_booked and booked_at is not null
    union all
    select sends.email_campaign_id, workspaces.timezone, sends.occurred_at, sends.sent_by || '_send'
    from sends
    inner join workspaces
        on sends.workspace_id = workspaces.workspace_id
    where sends.sent_by in ('ai', 'setter', 'sequence')
),

weekly as (
    select
        email_campaign_id,
        {{ week_start('happened_at', 'timezone') }} as week_start,
        count(case when kind = 'positive' then 1 end) as new_positive_leads,
        count(case when kind = 'meeting_requested' then 1 end) as new_meetings_requested_leads,
        count(case when kind = 'booked' then 1 end) as new_booked_leads,
        count(case when kind = 'ai_send' then 1 end) as ai_sends,
        count(case when kind = 'setter_send' then 1 end) as setter_sends,
        count(case when kind = 'sequence_send' then 1 end) as sequence_sends
    from events
    where email_campaign_id is not null
    group by 1, 2
),

final as (
    select
        campaigns.workspace_id,
        weekly.email_campaign_id,
        campaigns.name as campaign_name,
        weekly.week_start,
        weekly.new_positive_leads,
        weekly.new_meetings_requested_leads,
        weekly.new_booked_leads,
        weekly.ai_sends,
        weekly.setter_sends,
        weekly.sequence_sends
    from weekly
    inner join campaigns
        on weekly.email_campaign_id = campaigns.email_campaign_id
)

select * from final
