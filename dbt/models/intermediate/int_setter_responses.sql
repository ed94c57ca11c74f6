-- One row per lead assigned to a setter: the setter's first answer after the lead's first
-- positive reply, and how long the lead had waited for it in business hours.
with leads as (
    select * from {{ ref('stg_app__leads') }}
),

summaries as (
    select * from {{ ref('int_leads_summarised') }}
),

workspaces as (
    select * from {{ ref('stg_app__workspaces') }}
),

replies as (
    select * from {{ ref('int_replies_classified') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
),

assigned as (
    select
        leads.lead_id,
        leads.workspace_id,
        leads.assigned_user_id,
        leads.assigned_at,
        summaries.first_positive_at,
        summaries.is_positive,
        summaries.is_booked,
        workspaces.timezone,
        workspaces.business_hours_start,
        workspaces.business_hours_end
    from leads
    inner join summaries
        on leads.lead_id = summaries.lead_id
    inner join workspaces
        on leads.workspace_id = workspaces.workspace_id
    where leads.assigned_user_id is not null
),

-- A person's send with no known sender (an inbox whose mailbox no member claimed) is taken
-- to be the assigned setter's.
answers_ranked as (
    select
        assigned.lead_id,
        sends.occurred_at as answered_at,
        row_number() over (
            partition by assigned.lead_id
            order by sends.occurred_at, sends.message_id
        ) as answer_rank
    from assigned
    inner join sends
        on assigned.lead_id = sends.lead_id
        and sends.sent_by = 'setter'
        and coalesce(sends.sent_by_user_id, assigned.assigned_user_id) = assigned.assigned_user_id
        and sends.occurred_at >= assigned.first_positive_at
),

first_answers as (
    select * from answers_ranked where answer_rank = 1
),

last_outbound as (
    select
        first_answers.lead_id,
        max(sends.occurred_at) as last_outbound_at
    from first_answers
    inner join sends
        on first_answers.lead_id = sends.lead_id
        and sends.occurred_at < first_answers.answered_at
    group by first_answers.lead_id
),

-- The clock starts at the lead's first message since the last one sent to them: while a lead
-- takes days to write back, the setter is not the one keeping them waiting.
waits as (
    select
        first_answers.lead_id,
        first_answers.answered_at,
        min(replies.occurred_at) as waiting_since
    from first_answers
    left join last_outbound
        on first_answers.lead_id = last_outbound.lead_id
    inner join replies
        on first_answers.lead_id = replies.lead_id
        and replies.counts_as_reply
        and replies.occurred_at <= first_answers.answered_at
        and (
            last_outbound.last_outbound_at is null
            or replies.occurred_at > last_outbound.last_outbound_at
        )
    group by first_answers.lead_id, first_answers.answered_at
),

-- Wall-clock time in the workspace's zone, so opening hours stay put across DST changes.
spans as (
    select
        waits.lead_id,
        timezone(assigned.timezone, waits.waiting_since) as local_start,
        timezone(assigned.timezone, waits.answered_at) as local_end,
        assigned.business_hours_start,
        assigned.business_hours_end
    from waits
    inner join assigned
        on waits.lead_id = assigned.lead_id
),

span_days as (
    select
        spans.*,
        cast(unnest(generate_series(
            cast(spans.local_start as date),
            cast(spans.local_end as date),
            interval 1 day
        )) as date) as local_day
    from spans
),

business_time as (
    select
        lead_id,
        sum(greatest(0, date_diff(
            'second',
            greatest(local_start, local_day + to_hours(business_hours_start)),
            least(local_end, local_day + to_hours(business_hours_end))
        ))) as business_seconds
    from span_days
    where isodow(local_day) <= 5
    group by lead_id
),

final as (
    select
        assigned.lead_id,
        assigned.workspace_id,
        assigned.assigned_user_id,
        assigned.assigned_at,
        assigned.timezone,
        assigned.is_positive,
        assigned.is_booked,
        assigned.first_positive_at,
        waits.waiting_since,
        waits.answered_at,
        case
            when waits.waiting_since is not null then coalesce(business_time.business_seconds, 0)
        end as response_business_seconds
    from assigned
    left join waits
        on assigned.lead_id = waits.lead_id
    left join business_time
        on assigned.lead_id = business_time.lead_id
)

select * from final
