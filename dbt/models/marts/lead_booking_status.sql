with leads as (
    select * from {{ ref('int_leads_summarised') }}
),

final as (
    select
        workspace_id,
        lead_id,
        email_campaign_id,
        booking_provider,
        is_positive,
        is_meeting_requested,
        is_booked,
        booked_at,
        appointment_status,
        first_positive_at,
        first_response_at,
        first_response_by,
        response_seconds,
        arm
    from leads
)

select * from final
