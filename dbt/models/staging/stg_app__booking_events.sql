with source as (
    select * from {{ source('app', 'booking_events') }}
),

renamed as (
    select
        id as booking_event_id,
        workspace_id,
        lead_id,
        provider,
        event_type,
        provider_event_id,
        appointment_status,
        ghl_appointment_id,
        calendly_invitee_uri,
        calendly_scheduled_event_uri,
        invitee_email,
        meeting_start_at,
        occurred_at,
        created_at,
        updated_at
    from source
)

select * from renamed
