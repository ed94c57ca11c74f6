-- One row per lead that has replied: the grain every date-ranged analytics query aggregates.
with leads as (
    select * from {{ ref('int_leads_summarised') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
),

lead_sends as (
    select
        lead_id,
        count(case when sent_by = 'ai' then 1 end) as ai_sends,
        count(case when sent_by = 'setter' then 1 end) as setter_sends,
        count(case when sent_by = 'sequence' then 1 end) as sequence_sends
    from sends
    where lead_id is not null
    group by lead_id
),

final as (
    select
        leads.workspace_id,
        leads.lead_id,
        leads.email_campaign_id,
        leads.industry_segment,
        leads.headcount_bucket,
        leads.first_reply_at,
        -- The cohort day: the first reply's date in the workspace's time zone.
        cast(timezone(leads.timezone, leads.first_reply_at) as date) as first_reply_date,
        leads.is_positive,
        leads.is_meeting_requested,
        leads.is_booked,
        leads.response_seconds,
        leads.arm,
        coalesce(lead_sends.ai_sends, 0) as ai_sends,
        coalesce(lead_sends.setter_sends, 0) as setter_sends,
        coalesce(lead_sends.sequence_sends, 0) as sequence_sends
    from leads
    left join lead_sends
        on leads.lead_id = lead_sends.lead_id
    where leads.first_reply_at is not null
)

select * from final
