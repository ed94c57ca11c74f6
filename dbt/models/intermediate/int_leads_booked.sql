with leads as (
    select * from {{ ref('stg_app__leads') }}
),

workspaces as (
    select * from {{ ref('stg_app__workspaces') }}
),

final as (
    select
        leads.lead_id,
        leads.workspace_id,
        leads.email_campaign_id,
        workspaces.booking_provider,
        workspaces.timezone,
        {{ industry_segment('leads.industry') }} as industry_segment,
        {{ headcount_bucket('leads.headcount') }} as headcount_bucket,
        {{ is_meeting_booked(
            'workspaces.booking_provider',
            'leads.ghl_appointment_id',
            'leads.calendly_invitee_uri',
            'leads.calendly_scheduled_event_uri',
            'leads.appointment_status',
        ) }} as is_booked,
        leads.booked_at,
        leads.appointment_status
    from leads
    inner join workspaces
        on leads.workspace_id = workspaces.workspace_id
)

select * from final
