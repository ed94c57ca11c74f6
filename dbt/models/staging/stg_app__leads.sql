with source as (
    select * from {{ source('app', 'leads') }}
),

renamed as (
    select
        id as lead_id,
        workspace_id,
        email_campaign_id,
        external_id,
        email,
        first_name,
        last_name,
        title,
        phone,
        company,
        industry,
        headcount,
        sentiment_tag,
        ai_paused,
        ghl_contact_id,
        ghl_appointment_id,
        calendly_invitee_uri,
        calendly_scheduled_event_uri,
        appointment_status,
        meeting_start_at,
        booked_at,
        opted_out,
        bounced_at,
        assigned_user_id,
        assigned_at,
        created_at,
        updated_at
    from source
)

select * from renamed
