with campaigns as (
    select * from {{ ref('stg_app__email_campaigns') }}
),

leads as (
    select * from {{ ref('int_leads_summarised') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
),

lead_counts as (
    select
        leads.email_campaign_id,
        {{ funnel_counts('leads') }}
    from leads
    where leads.email_campaign_id is not null
    group by leads.email_campaign_id
),

send_counts as (
    select
        email_campaign_id,
        count(case when sent_by = 'ai' then 1 end) as ai_sends,
        count(case when sent_by = 'setter' then 1 end) as setter_sends,
        count(case when sent_by = 'sequence' then 1 end) as sequence_sends
    from sends
    where email_campaign_id is not null
    group by email_campaign_id
),

counts as (
    select
        campaigns.workspace_id,
        campaigns.email_campaign_id,
        campaigns.name as campaign_name,
        campaigns.response_mode,
        campaigns.archived,
        coalesce(lead_counts.leads, 0) as leads,
        coalesce(lead_counts.leads_replied, 0) as leads_replied,
        coalesce(lead_counts.positive_leads, 0) as positive_leads,
        coalesce(lead_counts.meetings_requested_leads, 0) as meetings_requested_leads,
        coalesce(lead_counts.booked_leads, 0) as booked_leads,
        coalesce(lead_counts.booked_positive_leads, 0) as booked_positive_leads,
        coalesce(lead_counts.booked_meeting_requested_leads, 0)
            as booked_meeting_requested_leads,
        coalesce(send_counts.ai_sends, 0) as ai_sends,
        coalesce(send_counts.setter_sends, 0) as setter_sends,
        coalesce(send_counts.sequence_sends, 0) as sequence_sends,
        lead_counts.median_first_response_seconds
    from campaigns
    left join lead_counts
        on campaigns.email_campaign_id = lead_counts.email_campaign_id
    left join send_counts
        on campaigns.email_campaign_id = send_counts.email_campaign_id
),

final as (
    select
        counts.workspace_id,
        counts.email_campaign_id,
        counts.campaign_name,
        counts.response_mode,
        counts.archived,
        counts.leads,
        counts.leads_replied,
        counts.positive_leads,
        counts.meetings_requested_leads,
        counts.booked_leads,
        counts.booked_positive_leads,
        counts.booked_meeting_requested_leads,
        {{ funnel_rates('counts') }},
        counts.ai_sends,
        counts.setter_sends,
        counts.sequence_sends,
        counts.median_first_response_seconds
    from counts
)

select * from final
