with drafts as (
    select * from {{ ref('stg_app__ai_drafts') }}
),

leads as (
    select * from {{ ref('int_leads_summarised') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
    where ai_draft_id is not null
),

-- Drafts a newer version replaced (the revision loop's rewrites, a reviewer's Regenerate).
replaced as (
    select distinct previous_draft_id as ai_draft_id
    from drafts
    where previous_draft_id is not null
),

decisions as (
    select * from {{ ref('stg_app__auto_send_decisions') }}
    where ai_draft_id is not null
),

-- One row per draft and outbound guard rule that sent it to a person (at decision time or
-- in the re-check before its send).
guard_stops as (
    select distinct
        ai_draft_id,
        guard_rule
    from (
        select
            ai_draft_id,
            unnest(guard_rules) as guard_rule
        from decisions
    )
),

guarded_drafts as (
    select
        ai_draft_id,
        {% for rule in guard_rules() -%}
        bool_or(guard_rule = '{{ rule }}') as stopped_by_{{ rule }},
        {% endfor -%}
        true as stopped_by_guard
    from guard_stops
    group by ai_draft_id
),

draft_facts as (
    select
        drafts.ai_draft_id,
        leads.workspace_id,
        leads.email_campaign_id,
        {{ week_start('drafts.created_at', 'leads.timezone') }} as week_start,
        drafts.status,
        drafts.revision_round,
        replaced.ai_draft_id is not null as is_replaced,
        drafts.body as draft_body,
        drafts.created_at,
        sends.sent_by,
        sends.body as sent_body,
        sends.occurred_at as sent_at,
        leads.is_booked,
        leads.booked_at,
        leads.arm,
        {% for rule in guard_rules() -%}
        coalesce(guarded_drafts.stopped_by_{{ rule }}, false) as stopped_by_{{ rule }},
        {% endfor -%}
        coalesce(guarded_drafts.stopped_by_guard, false) as stopped_by_guard
    from drafts
    inner join leads
        on drafts.lead_id = leads.lead_id
    left join sends
        on drafts.ai_draft_id = sends.ai_draft_id
    left join guarded_drafts
        on drafts.ai_draft_id = guarded_drafts.ai_draft_id
    left join replaced
        on drafts.ai_draft_id = replaced.ai_draft_id
    where leads.email_campaign_id is not null
),

outcomes as (
    select
        *,
        sent_at is not null
            and is_booked
            and booked_at >= sent_at
            and booked_at < sent_at + interval '30 days' as booked_within_30d,
        -- A send younger than 7 days without a booking yet is pending, not a miss.
        sent_at is not null
            and not (is_booked and booked_at >= sent_at)
            and sent_at > {{ as_of() }} - interval '7 days' as is_pending
    from draft_facts
),

final as (
    select
        workspace_id,
        email_campaign_id,
        week_start,
        count(*) as drafts,
        count(case when sent_by = 'ai' then 1 end) as auto_sent,
        count(case when sent_by = 'setter' and sent_body = draft_body then 1 end)
            as approved_unchanged,
        count(case when sent_by = 'setter' and sent_body <> draft_body then 1 end)
            as sent_after_edit,
        count(case when status = 'rejected' then 1 end) as rejected,
        count(case when sent_at is null and status <> 'rejected' and not is_replaced then 1 end)
            as unused,
        count(case when is_replaced then 1 end) as replaced_versions,
        count(case when sent_by = 'ai' and revision_round > 0 then 1 end) as rescued_by_revision,
        count(case when booked_within_30d then 1 end) as booked_within_30d,
        count(case when is_pending then 1 end) as pending,
        count(case when sent_by = 'ai' and arm = 'AI_AUTO_SEND' then 1 end) * 1.0
            / nullif(count(case when arm = 'AI_AUTO_SEND' then 1 end), 0)
            as auto_send_share,
        count(case when stopped_by_guard then 1 end) as guard_stopped,
        {% for rule in guard_rules() -%}
        count(case when stopped_by_{{ rule }} then 1 end) as guard_stopped_{{ rule }}{{ "," if not loop.last }}
        {% endfor %}
    from outcomes
    group by workspace_id, email_campaign_id, week_start
)

select * from final
