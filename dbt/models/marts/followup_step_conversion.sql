with sequences as (
    select * from {{ ref('stg_app__followup_sequences') }}
),

steps as (
    select * from {{ ref('stg_app__followup_steps') }}
),

enrollments as (
    select * from {{ ref('stg_app__followup_enrollments') }}
),

sends as (
    select * from {{ ref('int_sends_delivered') }}
    where sent_by = 'sequence'
        and follow_up_step is not null
),

leads as (
    select * from {{ ref('int_leads_summarised') }}
),

step_sends as (
    select
        enrollments.sequence_id,
        sends.lead_id,
        sends.follow_up_step as step_number,
        min(sends.occurred_at) as sent_at
    from sends
    inner join enrollments
        on sends.lead_id = enrollments.lead_id
    group by 1, 2, 3
),

-- Booked after a step means after it went out and before the lead's next step did.
step_windows as (
    select
        step_sends.*,
        lead(step_sends.sent_at) over (
            partition by step_sends.sequence_id, step_sends.lead_id
            order by step_sends.step_number
        ) as next_sent_at
    from step_sends
),

final as (
    select
        sequences.workspace_id,
        steps.sequence_id,
        sequences.name as sequence_name,
        steps.step_id,
        steps.step_number,
        steps.channel,
        count(distinct step_windows.lead_id) as leads_received,
        count(distinct case
            when leads.is_booked
                and leads.booked_at >= step_windows.sent_at
                and (step_windows.next_sent_at is null or leads.booked_at < step_windows.next_sent_at)
                then step_windows.lead_id
        end) as booked_after,
        count(distinct case
            when leads.is_booked
                and leads.booked_at >= step_windows.sent_at
                and (step_windows.next_sent_at is null or leads.booked_at < step_windows.next_sent_at)
                then step_windows.lead_id
        end) * 1.0 / nullif(count(distinct step_windows.lead_id), 0) as rate
    from steps
    inner join sequences
        on steps.sequence_id = sequences.sequence_id
    left join step_windows
        on steps.sequence_id = step_windows.sequence_id
        and steps.step_number = step_windows.step_number
    left join leads
        on step_windows.lead_id = leads.lead_id
    group by 1, 2, 3, 4, 5, 6
)

select * from final
