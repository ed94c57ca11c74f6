-- One row per lead: its funnel position, first response and the arm it was in.
with leads as (
    select * from {{ ref('int_leads_booked') }}
),

replies as (
    select * from {{ ref('int_replies_classified') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
),

mode_changes as (
    select * from {{ ref('stg_app__campaign_mode_changes') }}
),

campaigns as (
    select * from {{ ref('stg_app__email_campaigns') }}
),

reply_facts as (
    select
        lead_id,
        bool_or(counts_as_reply) as has_replied,
        min(case when counts_as_reply then occurred_at end) as first_reply_at,
        bool_or(is_positive) as is_positive,
        bool_or(is_meeting_requested) as is_meeting_requested,
        min(case when is_positive then occurred_at end) as first_positive_at,
        min(case when is_meeting_requested then occurred_at end) as first_meeting_requested_at
    from replies
    group by lead_id
),

responses_ranked as (
    select
        reply_facts.lead_id,
        sends.occurred_at as first_response_at,
        sends.sent_by as first_response_by,
        row_number() over (
            partition by reply_facts.lead_id
            order by sends.occurred_at, sends.message_id
        ) as response_rank
    from reply_facts
    inner join sends
        on reply_facts.lead_id = sends.lead_id
        and sends.occurred_at >= reply_facts.first_positive_at
        and sends.sent_by in ('ai', 'setter', 'sequence')
),

first_responses as (
    select * from responses_ranked where response_rank = 1
),

-- The arm is the campaign's mode in force when the lead first replied positively: the last
-- change at or before that moment, else the mode before the first later change.
arm_before as (
    select
        reply_facts.lead_id,
        mode_changes.to_mode,
        row_number() over (
            partition by reply_facts.lead_id
            order by mode_changes.changed_at desc, mode_changes.mode_change_id
        ) as change_rank
    from reply_facts
    inner join leads
        on reply_facts.lead_id = leads.lead_id
    inner join mode_changes
        on leads.email_campaign_id = mode_changes.email_campaign_id
        and mode_changes.changed_at <= reply_facts.first_positive_at
),

arm_after as (
    select
        reply_facts.lead_id,
        coalesce(mode_changes.from_mode, mode_changes.to_mode) as mode_before,
        row_number() over (
            partition by reply_facts.lead_id
            order by mode_changes.changed_at, mode_changes.mode_change_id
        ) as change_rank
    from reply_facts
    inner join leads
        on reply_facts.lead_id = leads.lead_id
    inner join mode_changes
        on leads.email_campaign_id = mode_changes.email_campaign_id
        and mode_changes.changed_at > reply_facts.first_positive_at
),

final as (
    select
        leads.lead_id,
        leads.workspace_id,
        leads.email_campaign_id,
        leads.booking_provider,
        leads.timezone,
        leads.industry_segment,
        leads.headcount_bucket,
        coalesce(reply_facts.has_replied, false) as has_replied,
        coalesce(reply_facts.is_positive, false) as is_positive,
        coalesce(reply_facts.is_meeting_requested, false) as is_meeting_requested,
        leads.is_booked,
        reply_facts.first_reply_at,
        leads.booked_at,
        leads.appointment_status,
        reply_facts.first_positive_at,
        reply_facts.first_meeting_requested_at,
        first_responses.first_response_at,
        first_responses.first_response_by,
        date_diff('second', reply_facts.first_positive_at, first_responses.first_response_at)
            as response_seconds,
        case
            when reply_facts.first_positive_at is not null
                then coalesce(arm_before.to_mode, arm_after.mode_before, campaigns.response_mode)
        end as arm
    from leads
    left join reply_facts
        on leads.lead_id = reply_facts.lead_id
    left join first_responses
        on leads.lead_id = first_responses.lead_id
    left join arm_before
        on leads.lead_id = arm_before.lead_id
        and arm_before.change_rank = 1
    left join arm_after
        on leads.lead_id = arm_after.lead_id
        and arm_after.change_rank = 1
    left join campaigns
        on leads.email_campaign_id = campaigns.email_campaign_id
)

select * from final
